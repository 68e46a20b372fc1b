/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Unit tests for .repo file parsing in tc-rpmmd.c and ref escaping. */
#include "config.h"

#include <string.h>

#include "tc-rpmmd.h"
#include "tc-util.h"

static char *
write_repo (const char *dir, const char *text)
{
  char *path = g_build_filename (dir, "test.repo", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_good (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-rpmmd-XXXXXX", NULL);
  g_autofree char *path = write_repo (
      dir, "[fedora]\nname=Fedora $releasever - $basearch\n"
           "baseurl=http://127.0.0.1/f/$releasever/$basearch http://mirror/other\n"
           "gpgcheck=1\ngpgkey=file:///k1 file:///k2\n\n"
           "[disabled]\nname=off\nbaseurl=file:///x\nenabled=0\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) repos = tc_repo_file_load (path, "x86_64", "40", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (repos->len, ==, 1);
  TcRepo *r = repos->pdata[0];
  g_assert_cmpstr (r->id, ==, "fedora");
  g_assert_cmpstr (r->name, ==, "Fedora 40 - x86_64");
  g_assert_cmpstr (r->baseurl, ==, "http://127.0.0.1/f/40/x86_64/");
  g_assert_true (r->gpgcheck);
  g_assert_cmpuint (g_strv_length (r->gpgkeys), ==, 2);
  (void)tc_rm_rf (dir, FALSE, NULL);
}

static void
test_bad (void)
{
  static const struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "[a]\nname=x\n", "[a] has no baseurl" },
    { "[a]\nmetalink=https://mirrors/metalink\n", "uses metalink/mirrorlist; treectl needs baseurl" },
    { "[a]\nbaseurl=ftp://host/repo\n", "only file:// and http(s):// are supported" },
    { "[a]\nbaseurl=http://h/$nosuchvar/\n", "has an unknown variable" },
    { "[a]\nbaseurl=file:///r\ngpgcheck=1\n", "has gpgcheck=1 but no gpgkey" },
    { "not a keyfile at all\n", "repo file" },
  };
  g_autofree char *dir = g_dir_make_tmp ("test-rpmmd-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_repo (dir, cases[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) repos = tc_repo_file_load (path, "x86_64", NULL, &error);
      g_assert_null (repos);
      g_assert_nonnull (error);
      if (!strstr (error->message, cases[i].message))
        g_error ("case %u: \"%s\" does not contain \"%s\"", i, error->message, cases[i].message);
      g_assert_nonnull (strstr (error->message, path));
    }
  g_autoptr(GError) error = NULL;
  g_assert_null (tc_repo_file_load ("/nonexistent/x.repo", "x86_64", NULL, &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent/x.repo"));
  (void)tc_rm_rf (dir, FALSE, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rpmmd/repo-file", test_good);
  g_test_add_func ("/rpmmd/repo-file-bad", test_bad);
  return g_test_run ();
}
