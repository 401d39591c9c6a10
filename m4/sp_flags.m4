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

# SP_CHECK_LDFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# Link an empty program with FLAG added to LDFLAGS (and -Werror, so a flag the
# compiler driver or the linker only warns about counts as unsupported).
AC_DEFUN([SP_CHECK_LDFLAG], [
  AS_VAR_PUSHDEF([sp_var], [sp_cv_ldflag_$1])
  AC_CACHE_CHECK([whether $CC links with $1], [sp_var], [
    sp_save_CFLAGS=$CFLAGS
    sp_save_LDFLAGS=$LDFLAGS
    CFLAGS="$CFLAGS -Werror"
    LDFLAGS="$LDFLAGS $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([sp_var], [yes])], [AS_VAR_SET([sp_var], [no])])
    CFLAGS=$sp_save_CFLAGS
    LDFLAGS=$sp_save_LDFLAGS])
  AS_VAR_IF([sp_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([sp_var])
])

# SP_CHECK_DEFINED(MACRO, [ACTION-IF-DEFINED], [ACTION-IF-NOT])
# Whether MACRO is defined by the compiler with the user's CPPFLAGS and CFLAGS
# (e.g. _FORTIFY_SOURCE set by a distribution's compiler or by the user,
# __OPTIMIZE__ with -O1 or more).
AC_DEFUN([SP_CHECK_DEFINED], [
  AS_VAR_PUSHDEF([sp_var], [sp_cv_defined_$1])
  AC_CACHE_CHECK([whether $1 is defined with the given CFLAGS], [sp_var], [
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <stdio.h>]], [[
#ifndef $1
#error $1 not defined
#endif
]])], [AS_VAR_SET([sp_var], [yes])], [AS_VAR_SET([sp_var], [no])])])
  AS_VAR_IF([sp_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([sp_var])
])
