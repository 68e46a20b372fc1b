/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Unit tests for tc-pkgdiff.c: package lists and how two of them compare. */
#include "config.h"

#include "tc-pkgdiff.h"

/* A package list from "name epoch version release arch" lines. */
static GPtrArray *
pkglist (const char *first, ...)
{
  GPtrArray *packages = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_package_free);
  va_list args;
  va_start (args, first);
  for (const char *line = first; line; line = va_arg (args, const char *))
    {
      g_auto (GStrv) f = g_strsplit (line, " ", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 5);
      g_ptr_array_add (packages, tc_package_new (f[0], f[1], f[2], f[3], f[4]));
    }
  va_end (args);
  return packages;
}

/* The diff rendered one entry per line: "+nevra", "-nevra", "^name from to", "vname from to". */
static char *
render (const TcPkgDiff *diff)
{
  GString *s = g_string_new ("");
  for (guint i = 0; i < diff->upgraded->len; i++)
    {
      const TcPackageChange *c = diff->upgraded->pdata[i];
      g_autofree char *from = tc_package_get_evr (c->old_pkg);
      g_autofree char *to = tc_package_get_evr (c->new_pkg);
      g_string_append_printf (s, "^%s.%s %s %s\n", c->new_pkg->name, c->new_pkg->arch, from, to);
    }
  for (guint i = 0; i < diff->downgraded->len; i++)
    {
      const TcPackageChange *c = diff->downgraded->pdata[i];
      g_autofree char *from = tc_package_get_evr (c->old_pkg);
      g_autofree char *to = tc_package_get_evr (c->new_pkg);
      g_string_append_printf (s, "v%s.%s %s %s\n", c->new_pkg->name, c->new_pkg->arch, from, to);
    }
  for (guint i = 0; i < diff->removed->len; i++)
    {
      g_autofree char *nevra = tc_package_get_nevra (diff->removed->pdata[i]);
      g_string_append_printf (s, "-%s\n", nevra);
    }
  for (guint i = 0; i < diff->added->len; i++)
    {
      g_autofree char *nevra = tc_package_get_nevra (diff->added->pdata[i]);
      g_string_append_printf (s, "+%s\n", nevra);
    }
  return g_string_free (s, FALSE);
}

static char *
diff_of (GPtrArray *old_packages, GPtrArray *new_packages)
{
  g_autoptr (TcPkgDiff) diff = tc_pkgdiff_new (old_packages, new_packages);
  return render (diff);
}

static void
test_equal_lists (void)
{
  g_autoptr (GPtrArray) a = pkglist ("foo 0 1.0 1 noarch", "bar 2 3.1 4.fc40 x86_64", NULL);
  /* Same packages in another order. */
  g_autoptr (GPtrArray) b = pkglist ("bar 2 3.1 4.fc40 x86_64", "foo 0 1.0 1 noarch", NULL);
  g_autoptr (TcPkgDiff) diff = tc_pkgdiff_new (a, b);
  g_assert_true (tc_pkgdiff_is_empty (diff));
  g_autoptr (GPtrArray) empty = pkglist (NULL);
  g_autoptr (TcPkgDiff) empty_diff = tc_pkgdiff_new (empty, empty);
  g_assert_true (tc_pkgdiff_is_empty (empty_diff));
}

static void
test_epoch_wins (void)
{
  g_autoptr (GPtrArray) a = pkglist ("foo 0 9.9 9 noarch", "bar 2 1.0 1 noarch", NULL);
  g_autoptr (GPtrArray) b = pkglist ("foo 1 1.0 1 noarch", "bar 1 9.0 1 noarch", NULL);
  g_autofree char *text = diff_of (a, b);
  g_assert_cmpstr (text, ==,
                   "^foo.noarch 9.9-9 1:1.0-1\n"
                   "vbar.noarch 2:1.0-1 1:9.0-1\n");
  /* An empty epoch is epoch 0. */
  g_autoptr (TcPackage) no_epoch = tc_package_new ("foo", "", "1.0", "1", "noarch");
  g_autoptr (TcPackage) zero_epoch = tc_package_new ("foo", "0", "1.0", "1", "noarch");
  g_assert_cmpint (tc_package_compare_evr (no_epoch, zero_epoch), ==, 0);
}

static void
test_version_release_order (void)
{
  g_autoptr (GPtrArray) a = pkglist ("lib 0 1.9 1 noarch", "rel 0 2.0 9 noarch",
                                     "tilde 0 1.0 1 noarch", "alpha 0 1.0a 1 noarch", NULL);
  g_autoptr (GPtrArray) b = pkglist ("lib 0 1.10 1 noarch", "rel 0 2.0 10 noarch",
                                     "tilde 0 1.0~rc1 1 noarch", "alpha 0 1.0 1 noarch", NULL);
  g_autofree char *text = diff_of (a, b);
  /* 1.10 > 1.9 and release 10 > 9 numerically; ~ sorts before the release; a letter suffix
   * makes a version newer. */
  g_assert_cmpstr (text, ==,
                   "^lib.noarch 1.9-1 1.10-1\n"
                   "^rel.noarch 2.0-9 2.0-10\n"
                   "valpha.noarch 1.0a-1 1.0-1\n"
                   "vtilde.noarch 1.0-1 1.0~rc1-1\n");
}

static void
test_arch_change (void)
{
  g_autoptr (GPtrArray) a
      = pkglist ("tool 0 1.0 1 noarch", "multi 0 1 1 i686", "multi 0 1 1 x86_64", NULL);
  g_autoptr (GPtrArray) b = pkglist ("tool 0 1.0 1 x86_64", "multi 0 1 1 x86_64", NULL);
  g_autofree char *text = diff_of (a, b);
  g_assert_cmpstr (text, ==,
                   "-multi-1-1.i686\n"
                   "-tool-1.0-1.noarch\n"
                   "+tool-1.0-1.x86_64\n");
}

static void
test_added_removed_sorted (void)
{
  g_autoptr (GPtrArray) a
      = pkglist ("zeta 0 1 1 noarch", "beta 0 1 1 noarch", "keep 0 1 1 noarch", NULL);
  g_autoptr (GPtrArray) b
      = pkglist ("keep 0 1 1 noarch", "omega 0 1 1 noarch", "alpha 3 1 1 noarch", NULL);
  g_autofree char *text = diff_of (a, b);
  g_assert_cmpstr (text, ==,
                   "-beta-1-1.noarch\n"
                   "-zeta-1-1.noarch\n"
                   "+alpha-3:1-1.noarch\n"
                   "+omega-1-1.noarch\n");
}

static void
test_installonly_versions (void)
{
  /* Two kernels to two others: no single pairing, so each shows as removed or added; the one
   * kept in both is unchanged. */
  g_autoptr (GPtrArray) a = pkglist ("kernel 0 6.1 1 x86_64", "kernel 0 6.2 1 x86_64", NULL);
  g_autoptr (GPtrArray) b = pkglist ("kernel 0 6.2 1 x86_64", "kernel 0 6.3 1 x86_64", NULL);
  g_autofree char *text = diff_of (a, b);
  g_assert_cmpstr (text, ==, "^kernel.x86_64 6.1-1 6.3-1\n");
  g_autoptr (GPtrArray) c = pkglist ("kernel 0 6.4 1 x86_64", "kernel 0 6.5 1 x86_64", NULL);
  g_autofree char *text2 = diff_of (a, c);
  g_assert_cmpstr (text2, ==,
                   "-kernel-6.1-1.x86_64\n"
                   "-kernel-6.2-1.x86_64\n"
                   "+kernel-6.4-1.x86_64\n"
                   "+kernel-6.5-1.x86_64\n");
}

static void
test_from_variant (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) v = g_variant_ref_sink (
      g_variant_new_parsed ("[('b', '0', '1', '1', 'noarch'), ('a', '2', '1.0', '3', 'x86_64')]"));
  g_autoptr (GPtrArray) packages = tc_pkglist_new_from_variant (v, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (packages->len, ==, 2);
  g_autofree char *first = tc_package_get_nevra (packages->pdata[0]);
  g_assert_cmpstr (first, ==, "a-2:1.0-3.x86_64");

  g_autoptr (GVariant) wrong = g_variant_ref_sink (g_variant_new_parsed ("['a', 'b']"));
  g_assert_null (tc_pkglist_new_from_variant (wrong, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "package list has type as, expected a(sssss)");
  g_clear_error (&error);

  g_autoptr (GVariant) no_version
      = g_variant_ref_sink (g_variant_new_parsed ("[('a', '0', '', '1', 'noarch')]"));
  g_assert_null (tc_pkglist_new_from_variant (no_version, &error));
  g_assert_cmpstr (error->message, ==,
                   "package list entry 0 (\"a\") lacks a name, version, release or arch");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pkgdiff/equal-lists", test_equal_lists);
  g_test_add_func ("/pkgdiff/epoch-wins", test_epoch_wins);
  g_test_add_func ("/pkgdiff/version-release-order", test_version_release_order);
  g_test_add_func ("/pkgdiff/arch-change", test_arch_change);
  g_test_add_func ("/pkgdiff/added-removed-sorted", test_added_removed_sorted);
  g_test_add_func ("/pkgdiff/installonly-versions", test_installonly_versions);
  g_test_add_func ("/pkgdiff/from-variant", test_from_variant);
  return g_test_run ();
}
