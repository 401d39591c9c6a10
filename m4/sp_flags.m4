# SP_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# Compile an empty program with FLAG (and -Werror, so unknown flags that the
# compiler only warns about count as unsupported).
AC_DEFUN([SP_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([sp_var], [sp_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [sp_var], [
    sp_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([sp_var], [yes])], [AS_VAR_SET([sp_var], [no])])
    CFLAGS=$sp_save_CFLAGS])
  AS_VAR_IF([sp_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([sp_var])
])
