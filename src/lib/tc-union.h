/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The compose root as an overlay: a union checkout of the package commits kept in the
 * cachedir from one compose to the next (updated by what changed), under an empty upper
 * layer that takes every write. Only the upper layer is committed over the union tree, so
 * the cost of assembling and committing follows what changed, not the size of the tree. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct TcUnionRoot TcUnionRoot;

/* Makes @rootfs (created here) the assembled root of the package trees merged in @union_tree:
 * the cached union checkout @cachedir/union/root, brought to @union_tree, is the lower layer
 * of an overlay mounted on @rootfs. Returns NULL and sets *@out_why (no error) when that
 * cannot be done here (no overlayfs, another compose using the cachedir, a path overlayfs
 * options cannot carry); the caller then assembles a plain checkout. */
TcUnionRoot *tc_union_root_new (OstreeRepo *pkgcache, const char *cachedir,
                                OstreeMutableTree *union_tree, const char *rootfs,
                                char **out_why, GCancellable *cancellable, GError **error);

/* Unmounts the overlay and applies its upper layer to @mtree (the union tree): entries it
 * deleted are removed, directories it replaced are replaced, and its files and directories
 * are written to @repo (inside a transaction) and set in @mtree. */
gboolean tc_union_root_apply (TcUnionRoot *u, OstreeRepo *repo, OstreeMutableTree *mtree,
                              GCancellable *cancellable, GError **error);

/* Unmounts (if still mounted) and removes the upper layer. */
void tc_union_root_free (TcUnionRoot *u);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcUnionRoot, tc_union_root_free)

G_END_DECLS
