/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Package layering on a host: a local commit = base commit + requested packages, built with
 * compose's stages (repos, depsolve, package cache, assembly, scriptlets, rpmdb, commit),
 * and the install/uninstall operation that deploys it. */
#pragma once

#include <ostree.h>

#include "tc-origin.h"

G_BEGIN_DECLS

typedef struct
{
  const char *const *packages; /* names or provides to layer */
  const char *const *local_packages; /* NEVRAs of local RPMs already in the package cache */
  const char *const *override_remove; /* names of base packages to remove */
  const char *const *replace_local;   /* NEVRAs of cached local RPMs replacing base packages */
  const char *repos_dir;       /* directory of .repo files (the deployment's yum.repos.d) */
  const char *cachedir;        /* metadata cache and downloads */
  const char *basearch;
  gboolean dry_run;            /* resolve only: *out_commit stays NULL */
} TcLayerOptions;

/* Builds, in @repo (the sysroot's), a commit holding @base_commit plus the requested
 * packages and their dependencies, resolved against the base's rpmdb. A request that would
 * replace, upgrade or remove a base package fails naming both packages. The commit has
 * @base_commit as parent and metadata treectl.clientlayer=true, treectl.packages (the
 * request), treectl.clientlayer.pkgrefs (package cache refs it uses) and its own
 * treectl.rpmdb.pkglist. @out_added receives the NEVRAs added. */
gboolean tc_layer_build (OstreeRepo *repo, const char *base_commit, const TcLayerOptions *opts,
                         char **out_commit, GPtrArray **out_added, GCancellable *cancellable,
                         GError **error);

/* The base of @commit: its parent when it is a client layer, else @commit itself. */
char *tc_layer_get_base (OstreeRepo *repo, const char *commit, GError **error);

/* Builds (or, when @origin asks for no change, returns the base itself) the commit to
 * deploy for @origin's layered packages and overrides over @base_commit, for a deployment
 * whose /etc is that of @merge_deployment. */
gboolean tc_layer_for_deployment (OstreeSysroot *sysroot, OstreeDeployment *merge_deployment,
                                  const char *base_commit, TcOrigin *origin, gboolean dry_run, char **out_commit, GPtrArray **out_added,
                                  GCancellable *cancellable, GError **error);

/* Keeps each layered deployment's base alive with a treectl/base/N ref and deletes the
 * treectl/base/ and treectl/pkg/ refs no deployment uses. Called before pruning. */
gboolean tc_layer_update_refs (OstreeSysroot *sysroot, GCancellable *cancellable,
                               GError **error);

typedef enum
{
  TC_PKG_CHANGE_FLAGS_NONE = 0,
  TC_PKG_CHANGE_FLAGS_DRY_RUN = 1 << 0,
  /* Installing a package already requested, or uninstalling one that is not, is no error. */
  TC_PKG_CHANGE_FLAGS_IDEMPOTENT = 1 << 1,
  TC_PKG_CHANGE_FLAGS_UNINSTALL_ALL = 1 << 2,
  TC_PKG_CHANGE_FLAGS_OVERRIDE_RESET_ALL = 1 << 3,
} TcPkgChangeFlags;

typedef struct
{
  const char *const *install;     /* names or provides to layer */
  const char *const *uninstall;   /* layered packages to drop (as requested, or local names) */
  const char *const *local_paths; /* local .rpm files (readable paths) */
  const char *const *local_names; /* how messages name them (or NULL: the paths) */
  gboolean local_replace;         /* the local files replace base packages (override replace) */
  const char *const *override_remove; /* base packages to remove */
  const char *const *override_reset;  /* names whose override is dropped */
} TcPkgChangeRequest;

/* install, uninstall and override: changes the layered packages and overrides of @osname's
 * current deployment and deploys the result as the new default (the base commit itself
 * when nothing is left). Each local .rpm is verified (signed by a key of the deployment's
 * gpgcheck=1 repos when any has one) and imported into the package cache, and its NEVRA
 * recorded in the origin. Result as tc_result_new(). */
gboolean tc_pkg_change (OstreeSysroot *sysroot, const char *osname,
                        const TcPkgChangeRequest *request, TcPkgChangeFlags flags,
                        GVariant **out_result, GCancellable *cancellable, GError **error);

G_END_DECLS
