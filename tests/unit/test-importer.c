/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Unit tests for tc-importer.c: ref escaping and path translation, including the paths
 * rpmbuild itself cannot produce ("..", absolute after normalisation). */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "tc-importer.h"

static void
test_ref_for_nevra (void)
{
  struct
  {
    const char *name, *epoch, *version, *release, *arch, *ref;
  } cases[] = {
    { "foo", NULL, "1.0", "1", "x86_64", "treectl/pkg/foo/1.0-1.x86__64" },
    { "foo", "0", "1.0", "1", "noarch", "treectl/pkg/foo/1.0-1.noarch" },
    { "foo", "", "1.0", "1", "noarch", "treectl/pkg/foo/1.0-1.noarch" },
    { "perl", "4", "5.16.3", "291.el7", "x86_64", "treectl/pkg/perl/4_3A5.16.3-291.el7.x86__64" },
    { "libstdc++", NULL, "12", "1.fc38", "i686", "treectl/pkg/libstdc_2B_2B/12-1.fc38.i686" },
    { "a_b", NULL, "1~rc1", "1^git", "noarch", "treectl/pkg/a__b/1_7Erc1-1_5Egit.noarch" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *ref = tc_importer_ref_for_nevra (
          cases[i].name, cases[i].epoch, cases[i].version, cases[i].release, cases[i].arch);
      g_assert_cmpstr (ref, ==, cases[i].ref);
      g_assert_true (ostree_validate_rev (ref, NULL));
    }
}

/* translate() as a table row: expected tree path (or NULL) and tmpfiles line (or NULL). */
static void
assert_translates (const char *path, gboolean is_dir, guint mode, const char *target,
                   const char *want_path, const char *want_line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *got
      = tc_importer_translate_path (path, is_dir, "root", "root", mode, target, &line, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, want_path);
  g_assert_cmpstr (line, ==, want_line);
}

static void
test_translate_tree_paths (void)
{
  assert_translates ("usr/bin/foo", FALSE, S_IFREG | 0755, NULL, "usr/bin/foo", NULL);
  assert_translates ("etc/foo.conf", FALSE, S_IFREG | 0644, NULL, "usr/etc/foo.conf", NULL);
  assert_translates ("etc", TRUE, S_IFDIR | 0755, NULL, "usr/etc", NULL);
  assert_translates ("boot/vmlinuz", FALSE, S_IFREG | 0644, NULL, "usr/lib/ostree-boot/vmlinuz",
                     NULL);
  assert_translates ("bin/sh", FALSE, S_IFREG | 0755, NULL, "usr/bin/sh", NULL);
  assert_translates ("sbin", TRUE, S_IFDIR | 0555, NULL, "usr/sbin", NULL);
  assert_translates ("lib64/libc.so.6", FALSE, S_IFREG | 0755, NULL, "usr/lib64/libc.so.6", NULL);
  /* The final tree makes these links itself. */
  assert_translates ("lib64", FALSE, S_IFLNK | 0777, "usr/lib64", NULL, NULL);
  assert_translates ("bin", FALSE, S_IFLNK | 0777, "usr/bin", NULL, NULL);
  /* Normalisation drops "." and empty components. */
  assert_translates ("usr//lib/./foo", FALSE, S_IFREG | 0644, NULL, "usr/lib/foo", NULL);
  assert_translates ("", TRUE, S_IFDIR | 0755, NULL, "", NULL);
}

static void
test_translate_opt (void)
{
  assert_translates ("opt", TRUE, S_IFDIR | 0755, NULL, "usr/lib/opt", NULL);
  assert_translates ("opt/app", TRUE, S_IFDIR | 0755, NULL, "usr/lib/opt/app",
                     "L /var/opt/app - - - - /usr/lib/opt/app");
  assert_translates ("opt/app/bin/tool", FALSE, S_IFREG | 0755, NULL, "usr/lib/opt/app/bin/tool",
                     NULL);
}

static void
test_translate_var_run (void)
{
  assert_translates ("var/lib/foo", TRUE, S_IFDIR | 0750, NULL, NULL,
                     "d /var/lib/foo 0750 root root - -");
  assert_translates ("var/lib/foo/state", FALSE, S_IFREG | 0644, NULL, NULL, NULL);
  assert_translates ("var/mail", FALSE, S_IFLNK | 0777, "spool/mail", NULL,
                     "L /var/mail - - - - spool/mail");
  assert_translates ("var/run/foo", TRUE, S_IFDIR | 0755, NULL, NULL,
                     "d /run/foo 0755 root root - -");
  assert_translates ("run/lock/foo", TRUE, S_IFDIR | 01777, NULL, NULL,
                     "d /run/lock/foo 1777 root root - -");
  assert_translates ("var", TRUE, S_IFDIR | 0755, NULL, NULL, NULL);
  assert_translates ("var/run", TRUE, S_IFDIR | 0755, NULL, NULL, NULL);
  assert_translates ("run", TRUE, S_IFDIR | 0755, NULL, NULL, NULL);
  /* Owners are names, resolved by systemd-tmpfiles at boot; odd bytes are escaped. */
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *got
      = tc_importer_translate_path ("var/lib/a b", TRUE, "games", "", 02775, NULL, &line, &error);
  g_assert_no_error (error);
  g_assert_null (got);
  g_assert_cmpstr (line, ==, "d /var/lib/a\\x20b 2775 games root - -");
}

static void
assert_refused (const char *path, gint code, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *got = tc_importer_translate_path (path, FALSE, "root", "root", S_IFREG | 0644,
                                                     NULL, &line, &error);
  g_assert_error (error, G_IO_ERROR, code);
  g_assert_null (got);
  g_assert_null (line);
  g_assert_nonnull (strstr (error->message, message));
}

static void
test_translate_refused (void)
{
  assert_refused ("usr/lib/../../etc/shadow", G_IO_ERROR_INVALID_ARGUMENT, "contains \"..\"");
  assert_refused ("..", G_IO_ERROR_INVALID_ARGUMENT, "contains \"..\"");
  assert_refused ("usr/..", G_IO_ERROR_INVALID_ARGUMENT, "contains \"..\"");
  assert_refused ("var/lib/../../etc/x", G_IO_ERROR_INVALID_ARGUMENT, "contains \"..\"");
  assert_refused ("/etc/passwd", G_IO_ERROR_INVALID_ARGUMENT, "absolute path /etc/passwd");
  assert_refused ("srv/www/index.html", G_IO_ERROR_NOT_SUPPORTED,
                  "Unsupported path /srv/www/index.html");
  assert_refused ("home", G_IO_ERROR_NOT_SUPPORTED, "Unsupported path /home");
  assert_refused ("usrx/foo", G_IO_ERROR_NOT_SUPPORTED, "Unsupported path /usrx/foo");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/importer/ref-for-nevra", test_ref_for_nevra);
  g_test_add_func ("/importer/translate/tree-paths", test_translate_tree_paths);
  g_test_add_func ("/importer/translate/opt", test_translate_opt);
  g_test_add_func ("/importer/translate/var-run", test_translate_var_run);
  g_test_add_func ("/importer/translate/refused", test_translate_refused);
  return g_test_run ();
}
