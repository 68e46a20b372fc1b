/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Assembling a root filesystem from package commits: a union hardlink checkout in install
 * order, then the rpmdb written by librpm from the headers kept in those commits. */
#pragma once

#include <json-glib/json-glib.h>
#include <ostree.h>
#include <rpm/header.h>

G_BEGIN_DECLS

/* Checks out each commit in @pkg_commits (in order) into @rootfs_dfd/@rootfs_name, sharing
 * files with @repo through hardlinks. Two packages shipping different content at one path
 * is an error naming the path and both packages. */
gboolean tc_assembler_checkout (OstreeRepo *repo, GPtrArray *pkg_commits, GPtrArray *pkg_names,
                                int rootfs_dfd, const char *rootfs_name,
                                OstreeRepoDevInoCache *devino, GCancellable *cancellable,
                                GError **error);

/* Writes an rpmdb at usr/lib/sysimage/rpm of @rootfs from the RPM headers stored in
 * @pkg_commits' metadata, with compatibility links so `rpm -qa --root` finds it. An rpmdb
 * already there is added to, after the packages @erase_nevras (or NULL) are removed from
 * it. */
gboolean tc_assembler_write_rpmdb (OstreeRepo *repo, GPtrArray *pkg_commits,
                                   const char *const *erase_nevras, const char *rootfs,
                                   GCancellable *cancellable, GError **error);

/* The tree paths (relative, translated as the importer does) of the non-directory entries
 * of the package with header @h, and its tmpfiles.d file: what removing it deletes. */
GPtrArray *tc_assembler_package_paths (Header h);

/* The RPM header kept in a package commit's metadata (free with headerFree). */
Header tc_assembler_load_header (OstreeRepo *repo, const char *commit_checksum, GError **error);

/* Gives files the packages own as non-root users their owner, now that scriptlets have
 * created the users (see treectl.nonroot-files in the importer). */
gboolean tc_assembler_apply_ownership (OstreeRepo *repo, GPtrArray *pkg_commits,
                                       const char *rootfs, GError **error);

/* The treefile's remove-from-packages: [[PACKAGE, REGEX...]...] deletes the files PACKAGE
 * owns whose path matches a REGEX (the rpmdb keeps listing them, as in rpm-ostree). */
gboolean tc_assembler_remove_from_packages (OstreeRepo *repo, GPtrArray *pkg_commits,
                                            GPtrArray *pkg_names, JsonArray *rules,
                                            const char *rootfs, GError **error);

/* Commits @rootfs to @repo in one transaction, with @devino so files checked out of @repo
 * are not hashed again, adding ostree.bootable/ostree.linux from the tree's kernel to
 * @metadata; moves @ref (when not NULL) to the commit. */
gboolean tc_assembler_commit (OstreeRepo *repo, const char *rootfs, OstreeRepoDevInoCache *devino,
                              const char *parent, const char *subject, GVariant *metadata,
                              const char *ref, char **out_commit,
                              OstreeRepoTransactionStats *stats, GCancellable *cancellable,
                              GError **error);

/* The second half of tc_assembler_commit() for a tree built another way: with a transaction
 * open on @repo, writes @mtree and the commit, then commits the transaction (aborting it on
 * failure). */
gboolean tc_assembler_finish_commit (OstreeRepo *repo, OstreeMutableTree *mtree,
                                     const char *parent, const char *subject, GVariant *metadata,
                                     const char *ref, char **out_commit,
                                     OstreeRepoTransactionStats *stats,
                                     GCancellable *cancellable, GError **error);

/* Adds the trees of @pkg_commits to @mtree without checking anything out: new paths are
 * added, a path the tree already has with the same content is kept, anything else is a
 * conflict naming the path and the package. For packages that need no scriptlet and no
 * ownership change, this is assembly without touching the filesystem. A directory that no
 * earlier package has is added lazily, as its dirtree (read only if a later package adds to
 * it), so the cost follows the directories packages share, not the number of files. */
gboolean tc_assembler_merge_into_mtree (OstreeRepo *repo, OstreeMutableTree *mtree,
                                        GPtrArray *pkg_commits, GPtrArray *pkg_names,
                                        GError **error);

G_END_DECLS
