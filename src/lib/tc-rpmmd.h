/* SPDX-License-Identifier: LGPL-2.1-or-later
 * rpm-md repositories: .repo files, repomd.xml, and loading primary/filelists metadata into
 * a libsolv pool through a solv cache keyed by the repomd checksum. */
#pragma once

#include <gio/gio.h>
#include <solv/pool.h>
#include <solv/repo.h>

G_BEGIN_DECLS

typedef struct
{
  char *id;          /* section name in the .repo file */
  char *name;
  char *baseurl;     /* variables expanded, ends with "/" */
  gboolean gpgcheck;
  char **gpgkeys;    /* key URLs (file:// or http://) */
  char *source_file; /* the .repo file, for messages */
  char *repomd_sha256; /* set by tc_rpmmd_load_repo */
} TcRepo;

void tc_repo_free (TcRepo *repo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcRepo, tc_repo_free)

/* The enabled repositories of a .repo file, with $basearch and $releasever expanded
 * (@releasever may be NULL). */
GPtrArray *tc_repo_file_load (const char *path, const char *basearch, const char *releasever,
                              GError **error);

/* The enabled repositories of every *.repo file in @dir, files in name order. */
GPtrArray *tc_repo_dir_load (const char *dir, const char *basearch, const char *releasever,
                             GError **error);

/* A libsolv pool with rpm semantics for @basearch. */
Pool *tc_rpmmd_pool_new (const char *basearch, GError **error);

/* Loads each TcRepo of @repos into @pool with tc_rpmmd_load_repo(), reporting progress. */
gboolean tc_rpmmd_load_repos (Pool *pool, GPtrArray *repos, const char *cachedir,
                              GCancellable *cancellable, GError **error);

/* Loads @repo's metadata into @pool (primary required, filelists when present), caching the
 * result as a .solv file under @cachedir. The returned libsolv repo has appdata = @repo. */
gboolean tc_rpmmd_load_repo (Pool *pool, TcRepo *repo, const char *cachedir, Repo **out_repo,
                             GCancellable *cancellable, GError **error);

/* Download URL of a package of a repo loaded by tc_rpmmd_load_repo(). */
char *tc_rpmmd_package_url (Solvable *s);

G_END_DECLS
