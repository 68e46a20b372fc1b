/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Package lists of composed commits and the difference between two of them. */
#include "config.h"

#include <string.h>

#include <rpm/rpmver.h>

#include "tc-pkgdiff.h"
#include "tc-util.h"

TcPackage *
tc_package_new (const char *name, const char *epoch, const char *version, const char *release,
                const char *arch)
{
  TcPackage *pkg = g_new0 (TcPackage, 1);
  pkg->name = g_strdup (name);
  pkg->epoch = g_strdup (epoch && *epoch ? epoch : "0");
  pkg->version = g_strdup (version);
  pkg->release = g_strdup (release);
  pkg->arch = g_strdup (arch);
  return pkg;
}

TcPackage *
tc_package_copy (const TcPackage *pkg)
{
  return tc_package_new (pkg->name, pkg->epoch, pkg->version, pkg->release, pkg->arch);
}

void
tc_package_free (TcPackage *pkg)
{
  if (!pkg)
    return;
  g_free (pkg->name);
  g_free (pkg->epoch);
  g_free (pkg->version);
  g_free (pkg->release);
  g_free (pkg->arch);
  g_free (pkg);
}

static gboolean
epoch_is_zero (const TcPackage *pkg)
{
  return rpmvercmp (pkg->epoch, "0") == 0;
}

char *
tc_package_get_evr (const TcPackage *pkg)
{
  if (epoch_is_zero (pkg))
    return g_strdup_printf ("%s-%s", pkg->version, pkg->release);
  return g_strdup_printf ("%s:%s-%s", pkg->epoch, pkg->version, pkg->release);
}

char *
tc_package_get_nevra (const TcPackage *pkg)
{
  g_autofree char *evr = tc_package_get_evr (pkg);
  return g_strdup_printf ("%s-%s.%s", pkg->name, evr, pkg->arch);
}

int
tc_package_compare_evr (const TcPackage *a, const TcPackage *b)
{
  int r = rpmvercmp (a->epoch, b->epoch);
  if (r == 0)
    r = rpmvercmp (a->version, b->version);
  if (r == 0)
    r = rpmvercmp (a->release, b->release);
  return r;
}

/* Orders by name, then arch: the key packages are paired by. */
static int
compare_name_arch (const TcPackage *a, const TcPackage *b)
{
  int r = strcmp (a->name, b->name);
  return r != 0 ? r : strcmp (a->arch, b->arch);
}

static int
compare_packages (gconstpointer a, gconstpointer b)
{
  const TcPackage *pa = *(const TcPackage *const *)a;
  const TcPackage *pb = *(const TcPackage *const *)b;
  int r = compare_name_arch (pa, pb);
  return r != 0 ? r : tc_package_compare_evr (pa, pb);
}

GPtrArray *
tc_pkglist_new_from_variant (GVariant *pkglist, GError **error)
{
  if (!g_variant_is_of_type (pkglist, G_VARIANT_TYPE ("a(sssss)")))
    return (tc_throw (error, "package list has type %s, expected a(sssss)",
                      g_variant_get_type_string (pkglist)),
            NULL);
  g_autoptr (GPtrArray) packages = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_package_free);
  GVariantIter iter;
  const char *name, *epoch, *version, *release, *arch;
  g_variant_iter_init (&iter, pkglist);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &name, &epoch, &version, &release, &arch))
    {
      if (!*name || !*version || !*release || !*arch)
        return (tc_throw (error,
                          "package list entry %u (\"%s\") lacks a name, version, release or arch",
                          packages->len, name),
                NULL);
      g_ptr_array_add (packages, tc_package_new (name, epoch, version, release, arch));
    }
  g_ptr_array_sort (packages, compare_packages);
  return g_steal_pointer (&packages);
}

gboolean
tc_pkglist_load_commit (OstreeRepo *repo, const char *checksum, GPtrArray **out_packages,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) commit = NULL;
  if (!ostree_repo_load_commit (repo, checksum, &commit, NULL, error))
    {
      g_prefix_error (error, "loading commit %s: ", checksum);
      return FALSE;
    }
  g_autoptr (GVariant) metadata = g_variant_get_child_value (commit, 0);
  g_autoptr (GVariant) pkglist
      = g_variant_lookup_value (metadata, TC_COMMIT_META_KEY_PKGLIST, NULL);
  if (!pkglist)
    return tc_throw (error,
                     "commit %s has no " TC_COMMIT_META_KEY_PKGLIST " (not composed by treectl)",
                     checksum);
  g_autoptr (GPtrArray) packages = tc_pkglist_new_from_variant (pkglist, error);
  if (!packages)
    {
      g_prefix_error (error, "commit %s: " TC_COMMIT_META_KEY_PKGLIST ": ", checksum);
      return FALSE;
    }
  *out_packages = g_steal_pointer (&packages);
  return TRUE;
}

void
tc_package_change_free (TcPackageChange *change)
{
  if (!change)
    return;
  tc_package_free (change->old_pkg);
  tc_package_free (change->new_pkg);
  g_free (change);
}

static GPtrArray *
sorted_view (GPtrArray *packages)
{
  GPtrArray *view = g_ptr_array_sized_new (packages ? packages->len : 0);
  for (guint i = 0; packages && i < packages->len; i++)
    g_ptr_array_add (view, packages->pdata[i]);
  g_ptr_array_sort (view, compare_packages);
  return view;
}

/* Length of the run of packages sharing name and arch with @packages[start]. */
static guint
group_length (GPtrArray *packages, guint start)
{
  guint end = start + 1;
  while (end < packages->len
         && compare_name_arch (packages->pdata[start], packages->pdata[end]) == 0)
    end++;
  return end - start;
}

/* Diffs one name+arch group, both sides sorted by EVR. Versions present on both sides are
 * unchanged; a single version left on each side is an up- or downgrade; anything else (an
 * install-only package gaining or losing versions) is reported as removed and added. */
static void
diff_group (TcPkgDiff *diff, GPtrArray *old_view, guint old_start, guint n_old, GPtrArray *new_view,
            guint new_start, guint n_new)
{
  /* An empty side may have no storage at all: never offset a NULL pdata. */
  TcPackage **old_pkgs = n_old ? (TcPackage **)old_view->pdata + old_start : NULL;
  TcPackage **new_pkgs = n_new ? (TcPackage **)new_view->pdata + new_start : NULL;
  g_autoptr (GPtrArray) old_rest = g_ptr_array_new ();
  g_autoptr (GPtrArray) new_rest = g_ptr_array_new ();
  guint i = 0, j = 0;
  while (i < n_old || j < n_new)
    {
      int r = i >= n_old ? 1 : j >= n_new ? -1 : tc_package_compare_evr (old_pkgs[i], new_pkgs[j]);
      if (r == 0)
        i++, j++;
      else if (r < 0)
        g_ptr_array_add (old_rest, old_pkgs[i++]);
      else
        g_ptr_array_add (new_rest, new_pkgs[j++]);
    }
  if (old_rest->len == 1 && new_rest->len == 1)
    {
      TcPackageChange *change = g_new0 (TcPackageChange, 1);
      change->old_pkg = tc_package_copy (old_rest->pdata[0]);
      change->new_pkg = tc_package_copy (new_rest->pdata[0]);
      if (tc_package_compare_evr (change->old_pkg, change->new_pkg) < 0)
        g_ptr_array_add (diff->upgraded, change);
      else
        g_ptr_array_add (diff->downgraded, change);
      return;
    }
  for (guint k = 0; k < old_rest->len; k++)
    g_ptr_array_add (diff->removed, tc_package_copy (old_rest->pdata[k]));
  for (guint k = 0; k < new_rest->len; k++)
    g_ptr_array_add (diff->added, tc_package_copy (new_rest->pdata[k]));
}

TcPkgDiff *
tc_pkgdiff_new (GPtrArray *old_packages, GPtrArray *new_packages)
{
  TcPkgDiff *diff = g_new0 (TcPkgDiff, 1);
  diff->added = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_package_free);
  diff->removed = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_package_free);
  diff->upgraded = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_package_change_free);
  diff->downgraded = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_package_change_free);

  g_autoptr (GPtrArray) old_view = sorted_view (old_packages);
  g_autoptr (GPtrArray) new_view = sorted_view (new_packages);
  guint i = 0, j = 0;
  /* Walk both lists in name+arch order, one group of equal keys at a time. */
  while (i < old_view->len || j < new_view->len)
    {
      int r = i >= old_view->len   ? 1
              : j >= new_view->len ? -1
                                   : compare_name_arch (old_view->pdata[i], new_view->pdata[j]);
      guint n_old = r <= 0 ? group_length (old_view, i) : 0;
      guint n_new = r >= 0 ? group_length (new_view, j) : 0;
      diff_group (diff, old_view, i, n_old, new_view, j, n_new);
      i += n_old;
      j += n_new;
    }
  return diff;
}

gboolean
tc_pkgdiff_is_empty (const TcPkgDiff *diff)
{
  return diff->added->len == 0 && diff->removed->len == 0 && diff->upgraded->len == 0
         && diff->downgraded->len == 0;
}

void
tc_pkgdiff_free (TcPkgDiff *diff)
{
  if (!diff)
    return;
  g_ptr_array_unref (diff->added);
  g_ptr_array_unref (diff->removed);
  g_ptr_array_unref (diff->upgraded);
  g_ptr_array_unref (diff->downgraded);
  g_free (diff);
}
