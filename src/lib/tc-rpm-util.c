/* SPDX-License-Identifier: LGPL-2.1-or-later
 * librpm glue shared by the stages that read packages. */
#include "config.h"

#include <string.h>

#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmpgp.h>

#include "tc-rpm-util.h"
#include "tc-util.h"

/* /dev/null is not a directory, so nothing can ever be created below it. */
#define TC_RPM_NO_DBPATH "/dev/null/treectl-no-rpmdb"

gboolean
tc_rpm_init (GError **error)
{
  static gsize initialized = 0;
  static gboolean ok = FALSE;
  if (g_once_init_enter (&initialized))
    {
      ok = rpmReadConfigFiles (NULL, NULL) == 0;
      if (ok)
        rpmPushMacro (NULL, "_dbpath", NULL, TC_RPM_NO_DBPATH, RMIL_CMDLINE);
      g_once_init_leave (&initialized, 1);
    }
  if (!ok)
    return tc_throw (error, "initializing librpm: reading its configuration failed");
  return TRUE;
}

struct TcRpmLogCapture
{
  GString *messages;
};

/* librpm has one process-wide log callback; each thread importing a package captures into
 * its own buffer, so packages can be imported in parallel. */
static GPrivate current_capture;

static int
log_capture_cb (rpmlogRec rec, rpmlogCallbackData data)
{
  TcRpmLogCapture *capture = g_private_get (&current_capture);
  if (capture == NULL)
    return RPMLOG_DEFAULT;
  if (rpmlogRecPriority (rec) > RPMLOG_WARNING)
    return 0;
  g_autofree char *msg = g_strstrip (g_strdup (rpmlogRecMessage (rec)));
  if (*msg == '\0')
    return 0;
  if (capture->messages->len > 0)
    g_string_append (capture->messages, "; ");
  g_string_append (capture->messages, msg);
  return 0;
}

TcRpmLogCapture *
tc_rpm_log_capture_begin (void)
{
  TcRpmLogCapture *capture = g_new0 (TcRpmLogCapture, 1);
  capture->messages = g_string_new ("");
  static gsize installed;
  if (g_once_init_enter (&installed))
    {
      rpmlogSetCallback (log_capture_cb, NULL);
      g_once_init_leave (&installed, 1);
    }
  g_private_set (&current_capture, capture);
  return capture;
}

const char *
tc_rpm_log_capture_get (TcRpmLogCapture *capture)
{
  return capture->messages->len > 0 ? capture->messages->str : NULL;
}

void
tc_rpm_log_capture_reset (TcRpmLogCapture *capture)
{
  g_string_truncate (capture->messages, 0);
}

void
tc_rpm_log_capture_end (TcRpmLogCapture *capture)
{
  if (capture == NULL)
    return;
  g_private_set (&current_capture, NULL);
  g_string_free (capture->messages, TRUE);
  g_free (capture);
}

static gboolean
add_key (rpmKeyring keyring, const guint8 *pkt, gsize pktlen, const char *path, GError **error)
{
  g_auto (rpmPubkey) key = rpmPubkeyNew (pkt, pktlen);
  if (key == NULL)
    return tc_throw (error, "%s: not an OpenPGP public key librpm can use", path);
  if (rpmKeyringAddKey (keyring, key) < 0)
    return tc_throw (error, "%s: adding the key to the keyring failed", path);
  int n_subkeys = 0;
  rpmPubkey *subkeys = rpmGetSubkeys (key, &n_subkeys);
  for (int i = 0; i < n_subkeys; i++)
    {
      rpmKeyringAddKey (keyring, subkeys[i]);
      rpmPubkeyFree (subkeys[i]);
    }
  g_free (subkeys);
  return TRUE;
}

rpmKeyring
tc_rpm_keyring_new_from_dir (const char *keyring_dir, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (keyring_dir, 0, error);
  if (dir == NULL)
    return (g_prefix_error (error, "opening keyring directory: "), NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc)g_strcmp0);

  g_auto (rpmKeyring) keyring = rpmKeyringNew ();
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (keyring_dir, names->pdata[i], NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      g_autofree char *contents = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &contents, &len, error))
        return NULL;
      if (g_str_has_prefix (contents, "-----BEGIN PGP"))
        {
          g_autofree guint8 *pkt = NULL;
          size_t pktlen = 0;
          pgpArmor armor = pgpParsePkts (contents, &pkt, &pktlen);
          if (armor != PGPARMOR_PUBKEY)
            return (tc_throw (error, "%s: not an ASCII-armored public key block", path), NULL);
          if (!add_key (keyring, pkt, pktlen, path, error))
            return NULL;
        }
      else if (!add_key (keyring, (const guint8 *)contents, len, path, error))
        return NULL;
    }
  return g_steal_pointer (&keyring);
}

char *
tc_rpm_header_nevra (Header h)
{
  g_autofree char *epoch_str = NULL;
  if (headerIsEntry (h, RPMTAG_EPOCH) && headerGetNumber (h, RPMTAG_EPOCH) != 0)
    epoch_str = g_strdup_printf ("%" G_GUINT64_FORMAT ":", headerGetNumber (h, RPMTAG_EPOCH));
  return g_strdup_printf ("%s-%s%s-%s.%s", headerGetString (h, RPMTAG_NAME),
                          epoch_str ? epoch_str : "", headerGetString (h, RPMTAG_VERSION),
                          headerGetString (h, RPMTAG_RELEASE),
                          headerIsSource (h) ? "src" : headerGetString (h, RPMTAG_ARCH));
}
