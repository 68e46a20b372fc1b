/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Small helpers shared by every part of libtreectl. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <ostree.h>

#include "tc-util.h"

gboolean
tc_throw (GError **error, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
  return FALSE;
}

gboolean
tc_throw_errno_prefix (GError **error, const char *fmt, ...)
{
  int errsv = errno;
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", msg,
               g_strerror (errsv));
  errno = errsv;
  return FALSE;
}

void
tc_test_pause (const char *point)
{
  const char *want = g_getenv ("TREECTL_TEST_PAUSE");
  if (want == NULL || strcmp (want, point) != 0)
    return;
  const char *secs_str = g_getenv ("TREECTL_TEST_PAUSE_SECONDS");
  guint secs = secs_str ? (guint)g_ascii_strtoull (secs_str, NULL, 10) : 30;
  g_printerr ("treectl: test pause at %s for %u s\n", point, secs);
  g_usleep ((gulong)secs * G_USEC_PER_SEC);
}

gboolean
tc_parse_refspec (const char *refspec, char **out_remote, char **out_ref, GError **error)
{
  const char *colon = strchr (refspec, ':');
  g_autofree char *remote = NULL;
  const char *ref = refspec;
  if (colon)
    {
      remote = g_strndup (refspec, colon - refspec);
      ref = colon + 1;
      if (*remote == '\0')
        return tc_throw (error, "invalid refspec \"%s\": empty remote name", refspec);
    }
  if (*ref == '\0')
    return tc_throw (error, "invalid refspec \"%s\": empty ref", refspec);
  g_autoptr(GError) local_error = NULL;
  if (!ostree_validate_rev (ref, &local_error))
    return tc_throw (error, "invalid refspec \"%s\": %s", refspec, local_error->message);
  if (remote && !ostree_validate_remote_name (remote, &local_error))
    return tc_throw (error, "invalid refspec \"%s\": %s", refspec, local_error->message);
  *out_remote = g_steal_pointer (&remote);
  *out_ref = g_strdup (ref);
  return TRUE;
}

gboolean
tc_is_checksum_prefix (const char *s)
{
  size_t n = strlen (s);
  if (n < 8 || n > 64)
    return FALSE;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}
