/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The package list a composed commit carries (treectl.rpmdb.pkglist) and the difference
 * between two such lists: added, removed, upgraded and downgraded packages. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

/* Commit metadata key holding a(sssss): name, epoch, version, release, arch. */
#define TC_COMMIT_META_KEY_PKGLIST "treectl.rpmdb.pkglist"

typedef struct
{
  char *name;
  char *epoch; /* "0" when the package has none */
  char *version;
  char *release;
  char *arch;
} TcPackage;

/* An empty or NULL @epoch means "0". */
TcPackage *tc_package_new (const char *name, const char *epoch, const char *version,
                           const char *release, const char *arch);
TcPackage *tc_package_copy (const TcPackage *pkg);
void tc_package_free (TcPackage *pkg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcPackage, tc_package_free)

/* "NAME-[EPOCH:]VERSION-RELEASE.ARCH", the epoch left out when 0. */
char *tc_package_get_nevra (const TcPackage *pkg);
/* "[EPOCH:]VERSION-RELEASE", the epoch left out when 0. */
char *tc_package_get_evr (const TcPackage *pkg);
/* Compares epoch, then version, then release with librpm's rpmvercmp: <0, 0 or >0. */
int tc_package_compare_evr (const TcPackage *a, const TcPackage *b);

/* The packages of an a(sssss) list as a GPtrArray of TcPackage sorted by name, arch and
 * EVR. Entries with an empty name, version, release or arch are an error. */
GPtrArray *tc_pkglist_new_from_variant (GVariant *pkglist, GError **error);

/* The package list of commit @checksum in @repo, sorted as above. Fails naming the commit
 * when the commit lacks treectl.rpmdb.pkglist (it was not composed by treectl). */
gboolean tc_pkglist_load_commit (OstreeRepo *repo, const char *checksum, GPtrArray **out_packages,
                                 GCancellable *cancellable, GError **error);

/* One package present in both lists with a different EVR. */
typedef struct
{
  TcPackage *old_pkg;
  TcPackage *new_pkg;
} TcPackageChange;

void tc_package_change_free (TcPackageChange *change);

typedef struct
{
  GPtrArray *added;      /* TcPackage */
  GPtrArray *removed;    /* TcPackage */
  GPtrArray *upgraded;   /* TcPackageChange */
  GPtrArray *downgraded; /* TcPackageChange */
} TcPkgDiff;

/* Compares two package lists (any order). Packages are paired by name and arch, so an arch
 * change shows as removed + added. Each array is sorted by name, then arch. */
TcPkgDiff *tc_pkgdiff_new (GPtrArray *old_packages, GPtrArray *new_packages);
gboolean tc_pkgdiff_is_empty (const TcPkgDiff *diff);
void tc_pkgdiff_free (TcPkgDiff *diff);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcPkgDiff, tc_pkgdiff_free)

G_END_DECLS
