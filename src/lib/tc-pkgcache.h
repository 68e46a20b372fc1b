/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Download and import of resolved packages into a package cache repository (compose's
 * --cachedir repo, or a host's system repo for layering). */
#pragma once

#include <ostree.h>
#include <solv/pool.h>
#include <solv/queue.h>

#include "tc-importer.h"
#include "tc-rpmmd.h"

G_BEGIN_DECLS

typedef struct
{
  OstreeRepo *repo;     /* where package commits live (bare or bare-user) */
  const char *cachedir; /* downloads go to cachedir/packages, repo keys to cachedir/keys */
  gboolean nodocs;      /* leave documentation out */
  gboolean delete_downloads; /* remove each downloaded file once it is imported */
  /* Called for each file object of the imported packages (see TcImportOptions.mirror). */
  TcImportMirrorFunc mirror;
  gpointer mirror_data;
  /* If set, receives (as keys) the commits of the packages imported rather than reused. */
  GHashTable *imported;
} TcPkgcacheOptions;

/* For each solvable of @installs (in order), appends its package commit to @out_commits and
 * its NEVRA to @out_names. A package the cache already holds (same ref, same sha256) is
 * reused; the others are downloaded (resumable, checksum-checked), verified (signatures
 * where the repo has gpgcheck=1) and imported in parallel within one transaction, largest
 * files first so that no single big package is left running alone at the end. */
gboolean tc_pkgcache_fetch_and_import (const TcPkgcacheOptions *opts, Pool *pool,
                                       const Queue *installs, GPtrArray *out_commits,
                                       GPtrArray *out_names, guint *out_cache_hits,
                                       GCancellable *cancellable, GError **error);

/* Writes the signing keys (gpgkey=) of @repos into the keyring directory
 * @cachedir/keys/@name for the importer and returns its path. */
char *tc_pkgcache_keyring (const char *cachedir, const char *name, TcRepo *const *repos,
                           guint n_repos, GCancellable *cancellable, GError **error);

/* The package cache ref of a solvable: treectl/pkg/NAME/EVR.ARCH, escaped. */
char *tc_pkgcache_ref_for_solvable (Pool *pool, Solvable *s);

/* Splits "[epoch:]version-release"; *epoch is NULL without an epoch. */
void tc_split_evr (const char *evr, char **epoch, char **version, char **release);

G_END_DECLS
