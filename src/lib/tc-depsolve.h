/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Dependency resolution with libsolv: the packages a compose (or a layer) installs. */
#pragma once

#include <gio/gio.h>
#include <solv/pool.h>
#include <solv/queue.h>

G_BEGIN_DECLS

typedef struct
{
  const char *const *packages;         /* names, provides, globs or "name >= ver" queries */
  const char *const *exclude_packages; /* names that must not be installed */
  gboolean recommends;                 /* also install weak dependencies */
  const Id *solvables;                 /* exact packages to install too (local RPMs) */
  int n_solvables;
  const Id *erase;                     /* installed (base) packages to remove */
  int n_erase;
  const char *const *replaceable;      /* names of base packages an override may replace */
} TcDepsolveRequest;

/* Resolves @request against the repos in @pool (whose installed repo, if any, is the base).
 * On success fills @out_installs with the solvables to install, in rpm install order.
 * Problems are reported as libsolv explains them, each naming the packages involved. */
gboolean tc_depsolve (Pool *pool, const TcDepsolveRequest *request, Queue *out_installs,
                      GError **error);

/* tc_depsolve(), and the installed (base) packages the result removes or replaces in
 * @out_erasures (only ones @request erases or names as replaceable). */
gboolean tc_depsolve_full (Pool *pool, const TcDepsolveRequest *request, Queue *out_installs,
                           Queue *out_erasures, GError **error);

/* "name-[epoch:]version-release.arch" of a solvable. */
const char *tc_solvable_nevra (Pool *pool, Id p);

G_END_DECLS
