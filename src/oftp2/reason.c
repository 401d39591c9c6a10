/* oftp2/reason.c - command names and reason-code texts (ref §0, §6). */
#include "oftp2/codec.h"

const char *
oftp2_cmd_name(uint8_t code)
{
	switch (code) {
	case OFTP2_SSRM: return "SSRM";
	case OFTP2_SSID: return "SSID";
	case OFTP2_SECD: return "SECD";
	case OFTP2_AUCH: return "AUCH";
	case OFTP2_AURP: return "AURP";
	case OFTP2_SFID: return "SFID";
	case OFTP2_SFPA: return "SFPA";
	case OFTP2_SFNA: return "SFNA";
	case OFTP2_DATA: return "DATA";
	case OFTP2_CDT: return "CDT";
	case OFTP2_EFID: return "EFID";
	case OFTP2_EFPA: return "EFPA";
	case OFTP2_EFNA: return "EFNA";
	case OFTP2_ESID: return "ESID";
	case OFTP2_CD: return "CD";
	case OFTP2_EERP: return "EERP";
	case OFTP2_NERP: return "NERP";
	case OFTP2_RTR: return "RTR";
	default: return NULL;
	}
}

const char *
oftp2_esid_text(unsigned reason)
{
	switch (reason) {
	case 0: return "normal session termination";
	case 1: return "command not recognised";
	case 2: return "protocol violation";
	case 3: return "user code not known";
	case 4: return "invalid password";
	case 5: return "local site emergency close down";
	case 6: return "command contained invalid data";
	case 7: return "exchange buffer size error";
	case 8: return "resources not available";
	case 9: return "time out";
	case 10: return "mode or capabilities incompatible";
	case 11: return "invalid challenge response";
	case 12: return "secure authentication requirements incompatible";
	case 99: return "unspecified abort code";
	default: return NULL;
	}
}

const char *
oftp2_sfna_text(unsigned reason)
{
	switch (reason) {
	case 1: return "invalid filename";
	case 2: return "invalid destination";
	case 3: return "invalid origin";
	case 4: return "storage record format not supported";
	case 5: return "maximum record length not supported";
	case 6: return "file size is too big";
	case 10: return "invalid record count";
	case 11: return "invalid byte count";
	case 12: return "access method failure";
	case 13: return "duplicate file";
	case 14: return "file direction refused";
	case 15: return "cipher suite not supported";
	case 16: return "encrypted file not allowed";
	case 17: return "unencrypted file not allowed";
	case 18: return "compression not allowed";
	case 19: return "signed file not allowed";
	case 20: return "unsigned file not allowed";
	case 99: return "unspecified reason";
	default: return NULL;
	}
}

const char *
oftp2_efna_text(unsigned reason)
{
	switch (reason) {
	case 21: return "invalid file signature";
	case 22: return "file decryption failure";
	case 23: return "file decompression failure";
	default: return oftp2_sfna_text(reason);
	}
}

const char *
oftp2_nerp_text(unsigned reason)
{
	switch (reason) {
	case 3: return "ESID 03 received (user code not known)";
	case 4: return "ESID 04 received (invalid password)";
	case 9: return "ESID 99 received (unspecified abort)";
	case 11: return "SFNA 01 received (invalid filename)";
	case 12: return "SFNA 02 received (invalid destination)";
	case 13: return "SFNA 03 received (invalid origin)";
	case 14: return "SFNA 04 received (record format not supported)";
	case 15: return "SFNA 05 received (record length not supported)";
	case 16: return "SFNA 06 received (file size too big)";
	case 20: return "SFNA 10 received (invalid record count)";
	case 21: return "SFNA 11 received (invalid byte count)";
	case 22: return "SFNA 12 received (access method failure)";
	case 23: return "SFNA 13 received (duplicate file)";
	case 24: return "SFNA 14 received (file direction refused)";
	case 25: return "SFNA 15 received (cipher suite not supported)";
	case 26: return "SFNA 16 received (encrypted file not allowed)";
	case 27: return "SFNA 17 received (unencrypted file not allowed)";
	case 28: return "SFNA 18 received (compression not allowed)";
	case 29: return "SFNA 19 received (signed file not allowed)";
	case 30: return "SFNA 20 received (unsigned file not allowed)";
	case 31: return "file signature not valid";
	case 32: return "file decompression failed";
	case 33: return "file decryption failed";
	case 34: return "file processing failed";
	case 35: return "not delivered to recipient";
	case 36: return "not acknowledged by recipient";
	case 50: return "transmission stopped by the operator";
	case 90: return "file size incompatible with recipient's protocol version";
	case 99: return "unspecified reason";
	default: return NULL;
	}
}
