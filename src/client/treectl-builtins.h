/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The CLI's verbs and the option handling they share. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Set by --sysroot (before or after the verb). */
extern char *treectl_opt_sysroot;
/* Set by --os. */
extern char *treectl_opt_osname;

typedef enum
{
  TREECTL_OPT_NONE = 0,
  TREECTL_OPT_OS = 1 << 0, /* the verb acts on one stateroot: accept --os */
} TreectlOptFlags;

/* Parses a verb's options plus the shared ones. On --help prints and exits 0. */
gboolean treectl_option_context_parse (GOptionContext *context, const GOptionEntry *entries,
                                       int *argc, char ***argv, TreectlOptFlags flags,
                                       GError **error);

typedef int (*TreectlBuiltin) (int argc, char **argv, GCancellable *cancellable, GError **error);

int treectl_builtin_status (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_upgrade (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_deploy (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_rebase (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_rollback (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_install (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_uninstall (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_override (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_cleanup (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_kargs (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_cancel (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_compose (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_db (int argc, char **argv, GCancellable *cancellable, GError **error);
/* compose subcommands */
int treectl_compose_tree (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_compose_import (int argc, char **argv, GCancellable *cancellable, GError **error);
int treectl_builtin_init (int argc, char **argv, GCancellable *cancellable, GError **error);

G_END_DECLS
