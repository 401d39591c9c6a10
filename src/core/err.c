/* err.c - texts for the SP_ERR_* codes. */
#include "err.h"

const char *
sp_strerror(int err)
{
	switch (err) {
	case SP_OK:             return "success";
	case SP_ERR_NOMEM:      return "out of memory";
	case SP_ERR_INVALID:    return "invalid input";
	case SP_ERR_LIMIT:      return "size limit exceeded";
	case SP_ERR_SHORT:      return "incomplete input";
	case SP_ERR_SYSTEM:     return "system call failed";
	case SP_ERR_AGAIN:      return "operation would block";
	case SP_ERR_TLS:        return "TLS failure";
	case SP_ERR_CLOSED:     return "connection closed by peer";
	case SP_ERR_NOT_FOUND:  return "not found";
	case SP_ERR_PROTOCOL:   return "protocol violation";
	case SP_ERR_TIMEOUT:    return "timed out";
	case SP_ERR_CONFIG:     return "invalid configuration";
	case SP_ERR_ABI:        return "module ABI mismatch";
	case SP_ERR_DENIED:     return "denied";
	case SP_ERR_EXISTS:     return "already exists";
	}
	return "unknown error";
}
