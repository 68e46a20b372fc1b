/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Unit tests for tc-origin.c and the refspec helpers in tc-util.c. */
#include "config.h"

#include <string.h>

#include "treectl.h"

static GKeyFile *
keyfile_from (const char *text)
{
  GKeyFile *kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, NULL));
  return kf;
}

static void
test_parse_refspec (void)
{
  g_autoptr(GKeyFile) kf = keyfile_from ("[origin]\nrefspec=fedora:fedora/x86_64/stable\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(TcOrigin) origin = tc_origin_new_from_keyfile (kf, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (origin->remote, ==, "fedora");
  g_assert_cmpstr (origin->ref, ==, "fedora/x86_64/stable");
  g_autofree char *refspec = tc_origin_get_refspec (origin);
  g_assert_cmpstr (refspec, ==, "fedora:fedora/x86_64/stable");
}

/* Layered packages and overrides: sorted, de-duplicated lists under baserefspec; with none
 * left the origin is a plain refspec again and the groups go away. */
static void
test_layering_lists (void)
{
  g_autoptr(GKeyFile) kf = keyfile_from ("[origin]\nrefspec=os:a/b\n[custom]\nkeep=1\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(TcOrigin) origin = tc_origin_new_from_keyfile (kf, "test", &error);
  g_assert_no_error (error);
  g_assert_false (tc_origin_has_packages (origin));
  const char *pkgs[] = { "vim", "htop", "vim", NULL };
  const char *local[] = { "foo-1.0-1.noarch", NULL };
  const char *removals[] = { "nano", NULL };
  tc_origin_set_packages (origin, pkgs);
  tc_origin_set_local_packages (origin, local);
  tc_origin_set_override_remove (origin, removals);
  g_assert_true (tc_origin_has_packages (origin));
  g_autoptr(GKeyFile) out = tc_origin_to_keyfile (origin);
  g_autofree char *data = g_key_file_to_data (out, NULL, NULL);
  g_assert_nonnull (strstr (data, "baserefspec=os:a/b\n"));
  g_assert_null (strstr (data, "\nrefspec="));
  g_assert_nonnull (strstr (data, "requested=htop;vim;\n"));
  g_assert_nonnull (strstr (data, "requested-local=foo-1.0-1.noarch;\n"));
  g_assert_nonnull (strstr (data, "[overrides]\nremove=nano;\n"));
  g_assert_nonnull (strstr (data, "keep=1"));

  g_autoptr(TcOrigin) again = tc_origin_new_from_keyfile (out, "again", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->packages[1], ==, "vim");
  g_assert_cmpstr (again->override_remove[0], ==, "nano");
  const char *none[] = { NULL };
  tc_origin_set_packages (again, none);
  tc_origin_set_local_packages (again, none);
  tc_origin_set_override_remove (again, none);
  g_autoptr(GKeyFile) plain = tc_origin_to_keyfile (again);
  g_autofree char *plain_data = g_key_file_to_data (plain, NULL, NULL);
  g_assert_nonnull (strstr (plain_data, "refspec=os:a/b\n"));
  g_assert_null (strstr (plain_data, "baserefspec"));
  g_assert_null (strstr (plain_data, "[packages]"));
  g_assert_null (strstr (plain_data, "[overrides]"));
}

static void
test_baserefspec_and_extra_groups (void)
{
  g_autoptr(GKeyFile) kf
      = keyfile_from ("[origin]\nbaserefspec=os:a/b\n\n[packages]\nrequested=htop;\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(TcOrigin) origin = tc_origin_new_from_keyfile (kf, "test", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (origin->ref, ==, "a/b");
  g_autoptr(GKeyFile) out = tc_origin_to_keyfile (origin);
  g_autofree char *requested = g_key_file_get_string (out, "packages", "requested", NULL);
  g_assert_cmpstr (requested, ==, "htop;");
}

static void
test_override_commit_roundtrip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcOrigin) origin = tc_origin_new_from_refspec ("r:ref", &error);
  g_assert_no_error (error);
  const char *csum = "8b0e3bde0e5c9b4a2f2a4f76e5b1c8c2ce8e9b9f2b7f1e1d0c9a8b7c6d5e4f3a";
  tc_origin_set_override_commit (origin, csum);
  g_autoptr(GKeyFile) kf = tc_origin_to_keyfile (origin);
  g_autoptr(TcOrigin) again = tc_origin_new_from_keyfile (kf, "again", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->override_commit, ==, csum);
  /* A new refspec drops the pin. */
  g_assert_true (tc_origin_set_refspec (again, "r:other", &error));
  g_assert_null (again->override_commit);
}

static void
test_malformed (void)
{
  static const struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "[origin]\n", "no [origin] refspec" },
    { "[origin]\nrefspec=remote:\n", "empty ref" },
    { "[origin]\nrefspec=:ref\n", "empty remote name" },
    { "[origin]\nrefspec=r:ref\noverride-commit=nothex\n", "is not a checksum" },
    { "[origin]\nrefspec=r:bad ref\n", "invalid refspec" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GKeyFile) kf = keyfile_from (cases[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(TcOrigin) origin = tc_origin_new_from_keyfile (kf, "bad.origin", &error);
      g_assert_null (origin);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_assert_nonnull (strstr (error->message, "bad.origin"));
    }
}

static void
test_checksum_prefix (void)
{
  g_assert_true (tc_is_checksum_prefix ("0123abcd"));
  g_assert_false (tc_is_checksum_prefix ("0123abc"));
  g_assert_false (tc_is_checksum_prefix ("1.0.1"));
  g_assert_false (tc_is_checksum_prefix ("0123ABCD"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/origin/parse-refspec", test_parse_refspec);
  g_test_add_func ("/origin/baserefspec-extra-groups", test_baserefspec_and_extra_groups);
  g_test_add_func ("/origin/override-commit", test_override_commit_roundtrip);
  g_test_add_func ("/origin/layering-lists", test_layering_lists);
  g_test_add_func ("/origin/malformed", test_malformed);
  g_test_add_func ("/util/checksum-prefix", test_checksum_prefix);
  return g_test_run ();
}
