/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Package scriptlets (%pre, %post, %posttrans, %transfiletriggerin) run inside the assembled
 * root with bubblewrap: no network, /usr through rofiles-fuse --copyup so hardlinked cache
 * files cannot change, /var and /tmp scratch. */
#pragma once

#include <rpm/header.h>

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  TC_SCRIPTS_FLAG_NONE = 0,
  /* @headers are every package of the tree: run their %transfiletriggerin too */
  TC_SCRIPTS_FLAG_TRANSFILETRIGGERS = 1 << 0,
  /* %doc files were left out: they do not match file triggers */
  TC_SCRIPTS_FLAG_NODOCS = 1 << 1,
} TcScriptsFlags;

/* Runs every %pre, then every %post, then every %posttrans of @headers (in install order;
 * @names gives each package's NEVRA for messages), then, with
 * TC_SCRIPTS_FLAG_TRANSFILETRIGGERS, every %transfiletriggerin whose path prefixes match a
 * file of @headers, given the matching files on stdin as rpm does. A scriptlet given as
 * "-p PROG" alone runs PROG. Lua scriptlets are refused unless the package name is in
 * @lua_skip_ok (then skipped with a message). A failing scriptlet fails the run, its output
 * included in the error. */
gboolean tc_scripts_run (const char *rootfs, GPtrArray *headers, GPtrArray *names,
                         const char *const *lua_skip_ok, TcScriptsFlags flags,
                         GCancellable *cancellable, GError **error);

/* Whether any of @headers has a %pre, %post or %posttrans scriptlet (a body or "-p PROG"). */
gboolean tc_scripts_any (GPtrArray *headers);

/* Runs treefile postprocess scripts (shell, "-e") in the same sandbox, in order. */
gboolean tc_scripts_run_postprocess (const char *rootfs, const char *const *scripts,
                                     GCancellable *cancellable, GError **error);

/* Gives usr/etc files their own inode so scriptlets editing /etc in place cannot change
 * the package cache. */
gboolean tc_scripts_unshare_etc (const char *rootfs, GError **error);

G_END_DECLS
