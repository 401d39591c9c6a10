/* trace.c - the -v session trace of oftp2-peer (see trace.h). */
#include <inttypes.h>
#include <stdio.h>

#include "oftp2/codec.h"
#include "msg.h"
#include "trace.h"

static const char *
flag_yn(bool b)
{
	return b ? "Y" : "N";
}

/* Text fields are UTF-8 from outside: print printable ASCII, escape the rest. */
void
peer_text_escape(char *out, size_t outlen, const struct oftp2_bytes *b)
{
	size_t i, o = 0;

	for (i = 0; i < b->len && o + 5 < outlen; i++) {
		uint8_t c = b->ptr[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

const char *
peer_esid_meaning(unsigned reason)
{
	const char *t = oftp2_esid_text(reason);

	return t != NULL ? t : "unknown reason code";
}

static const char *
or_unknown(const char *s)
{
	return s != NULL ? s : "unknown reason code";
}

void
peer_trace_cmd(char dir, const struct oftp2_cmd *cmd, size_t oeb_len)
{
	const char *name = oftp2_cmd_name((uint8_t)cmd->code);
	char t[1024];

	if (!peer_msg_verbose() || ((cmd->code == OFTP2_DATA || cmd->code == OFTP2_CDT) &&
	    peer_msg_verbose() < 2))
		return;
	if (name == NULL)
		name = "?";
	switch (cmd->code) {
	case OFTP2_SSRM:
		peer_trace("%c SSRM 'ODETTE FTP READY '", dir);
		break;
	case OFTP2_SSID: {
		const struct oftp2_ssid *s = &cmd->u.ssid;

		peer_trace("%c SSID level=%u code='%s' password=%s sdeb=%" PRIu32
		    " sr=%c compression=%s restart=%s special=%s credit=%u auth=%s"
		    " user='%s'", dir, s->level, s->code,
		    s->password[0] != '\0' ? "(set)" : "(empty)", s->sdeb,
		    (char)s->mode, flag_yn(s->compression), flag_yn(s->restart),
		    flag_yn(s->special), s->credit, flag_yn(s->auth), s->user);
		break;
	}
	case OFTP2_SFID: {
		const struct oftp2_sfid *s = &cmd->u.sfid;

		peer_text_escape(t, sizeof(t), &s->desc);
		peer_trace("%c SFID dsn='%s' date=%08" PRIu32 " time=%010" PRIu32
		    " user='%s' dest='%s' orig='%s' format=%c lrecl=%" PRIu32
		    " fsiz=%" PRIu64 " osiz=%" PRIu64 " rest=%" PRIu64
		    " sec=%02u ciph=%02u comp=%u env=%u sign=%s desc='%s'",
		    dir, s->dsn, s->date, s->time, s->user, s->dest, s->orig,
		    (char)s->format, s->lrecl, s->fsiz, s->osiz, s->rest,
		    s->sec, s->ciph, s->comp, s->env, flag_yn(s->sign), t);
		break;
	}
	case OFTP2_SFPA:
		peer_trace("%c SFPA acnt=%" PRIu64, dir, cmd->u.sfpa.acnt);
		break;
	case OFTP2_SFNA:
		peer_text_escape(t, sizeof(t), &cmd->u.sfna.text);
		peer_trace("%c SFNA reason=%02u (%s) retry=%s text='%s'", dir,
		    cmd->u.sfna.reason, or_unknown(oftp2_sfna_text(cmd->u.sfna.reason)),
		    flag_yn(cmd->u.sfna.retry), t);
		break;
	case OFTP2_DATA:
		peer_trace("%c DATA %zu octets", dir, oeb_len);
		break;
	case OFTP2_CDT:
		peer_trace("%c CDT", dir);
		break;
	case OFTP2_EFID:
		peer_trace("%c EFID rcnt=%" PRIu64 " ucnt=%" PRIu64, dir,
		    cmd->u.efid.rcnt, cmd->u.efid.ucnt);
		break;
	case OFTP2_EFPA:
		peer_trace("%c EFPA cd=%s", dir, flag_yn(cmd->u.efpa.cd));
		break;
	case OFTP2_EFNA:
		peer_text_escape(t, sizeof(t), &cmd->u.efna.text);
		peer_trace("%c EFNA reason=%02u (%s) text='%s'", dir,
		    cmd->u.efna.reason, or_unknown(oftp2_efna_text(cmd->u.efna.reason)), t);
		break;
	case OFTP2_ESID:
		peer_text_escape(t, sizeof(t), &cmd->u.esid.text);
		peer_trace("%c ESID reason=%02u (%s) text='%s'", dir,
		    cmd->u.esid.reason, peer_esid_meaning(cmd->u.esid.reason), t);
		break;
	case OFTP2_EERP: {
		const struct oftp2_eerp *e = &cmd->u.eerp;

		peer_trace("%c EERP dsn='%s' date=%08" PRIu32 " time=%010" PRIu32
		    " user='%s' dest='%s' orig='%s' hash=%zu octets signature=%zu octets",
		    dir, e->dsn, e->date, e->time, e->user, e->dest, e->orig,
		    e->hash.len, e->sig.len);
		break;
	}
	case OFTP2_NERP: {
		const struct oftp2_nerp *n = &cmd->u.nerp;

		peer_text_escape(t, sizeof(t), &n->text);
		peer_trace("%c NERP dsn='%s' date=%08" PRIu32 " time=%010" PRIu32
		    " dest='%s' orig='%s' crea='%s' reason=%02u (%s) text='%s'",
		    dir, n->dsn, n->date, n->time, n->dest, n->orig, n->crea,
		    n->reason, or_unknown(oftp2_nerp_text(n->reason)), t);
		break;
	}
	case OFTP2_AUCH:
		peer_trace("%c AUCH challenge=%zu octets", dir, cmd->u.auch.challenge.len);
		break;
	case OFTP2_CD:
	case OFTP2_RTR:
	case OFTP2_SECD:
	case OFTP2_AURP:
		peer_trace("%c %s", dir, name);
		break;
	}
}
