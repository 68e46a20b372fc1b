/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Package layering on a host: a local commit = base commit + requested packages, built with
 * compose's stages (repos, depsolve, package cache, assembly, scriptlets, rpmdb, commit),
 * and the install/uninstall operation that deploys it. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct
{
  const char *const *packages; /* names or provides to layer */
  const char *const *local_packages; /* NEVRAs of local RPMs already in the package cache */
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

/* Builds (or, with no packages, returns the base itself) the commit to deploy for
 * @packages over @base_commit, for a deployment whose /etc is that of @merge_deployment. */
gboolean tc_layer_for_deployment (OstreeSysroot *sysroot, OstreeDeployment *merge_deployment,
                                  const char *base_commit, const char *const *packages,
                                  const char *const *local_packages, gboolean dry_run, char **out_commit, GPtrArray **out_added,
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
} TcPkgChangeFlags;

/* install / uninstall: changes the requested package set of @osname's current deployment
 * and deploys the result as the new default (the base commit itself when no package is
 * left). @local_paths are local .rpm files to layer (readable paths; @local_names names them
 * in messages): each is verified (signed by a key of the deployment's gpgcheck=1 repos when
 * any has one) and imported into the package cache, and its NEVRA recorded in the origin.
 * Result as tc_result_new(). */
gboolean tc_pkg_change (OstreeSysroot *sysroot, const char *osname, const char *const *install,
                        const char *const *uninstall, const char *const *local_paths,
                        const char *const *local_names, TcPkgChangeFlags flags,
                        GVariant **out_result, GCancellable *cancellable, GError **error);

G_END_DECLS
