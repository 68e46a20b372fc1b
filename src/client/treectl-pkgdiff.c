/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Printing package differences. */
#include "config.h"

#include "treectl-pkgdiff.h"

static void
print_changes (const char *indent, const char *title, GPtrArray *changes)
{
  if (changes->len == 0)
    return;
  g_print ("%s%s:\n", indent, title);
  for (guint i = 0; i < changes->len; i++)
    {
      const TcPackageChange *change = changes->pdata[i];
      g_autofree char *from = tc_package_get_evr (change->old_pkg);
      g_autofree char *to = tc_package_get_evr (change->new_pkg);
      g_print ("%s  %s %s -> %s\n", indent, change->new_pkg->name, from, to);
    }
}

static void
print_packages (const char *indent, const char *title, GPtrArray *packages)
{
  if (packages->len == 0)
    return;
  g_print ("%s%s:\n", indent, title);
  for (guint i = 0; i < packages->len; i++)
    {
      g_autofree char *nevra = tc_package_get_nevra (packages->pdata[i]);
      g_print ("%s  %s\n", indent, nevra);
    }
}

void
treectl_print_pkgdiff (const TcPkgDiff *diff, const char *indent)
{
  print_changes (indent, "Upgraded", diff->upgraded);
  print_changes (indent, "Downgraded", diff->downgraded);
  print_packages (indent, "Removed", diff->removed);
  print_packages (indent, "Added", diff->added);
}

char *
treectl_pkgdiff_summary (const TcPkgDiff *diff)
{
  if (tc_pkgdiff_is_empty (diff))
    return g_strdup ("no changes");
  g_autoptr(GString) s = g_string_new ("");
  const struct
  {
    guint n;
    const char *what;
  } parts[] = { { diff->upgraded->len, "upgraded" },
                { diff->downgraded->len, "downgraded" },
                { diff->removed->len, "removed" },
                { diff->added->len, "added" } };
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i].n)
      g_string_append_printf (s, "%s%u %s", s->len ? ", " : "", parts[i].n, parts[i].what);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

OstreeRepo *
treectl_open_sysroot_repo (const char *sysroot_path, GCancellable *cancellable, GError **error)
{
  g_autofree char *repo_path = g_build_filename (sysroot_path, "ostree", "repo", NULL);
  g_autoptr(GFile) repo_file = g_file_new_for_path (repo_path);
  g_autoptr(OstreeRepo) repo = ostree_repo_new (repo_file);
  if (!ostree_repo_open (repo, cancellable, error))
    return NULL;
  return g_steal_pointer (&repo);
}

TcPkgDiff *
treectl_pkgdiff_for_commits (OstreeRepo *repo, const char *from, const char *to,
                             GCancellable *cancellable, GError **error)
{  g_autoptr(GPtrArray) from_packages = NULL;
  g_autoptr(GPtrArray) to_packages = NULL;
  if (!tc_pkglist_load_commit (repo, from, &from_packages, cancellable, error)
      || !tc_pkglist_load_commit (repo, to, &to_packages, cancellable, error))
    return NULL;
  return tc_pkgdiff_new (from_packages, to_packages);
}
