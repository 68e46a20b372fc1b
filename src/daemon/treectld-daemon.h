/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectld's process-wide state: the connection, the exported Sysroot and OS objects, the
 * one active transaction, and idle exit. */
#pragma once

#include <ostree.h>

#include "treectl-dbus.h"

G_BEGIN_DECLS

#define TREECTLD_BUS_NAME "org.treectl.Treectl1"
#define TREECTLD_BASE_PATH "/org/treectl/Treectl1"
#define TREECTLD_SYSROOT_PATH TREECTLD_BASE_PATH "/Sysroot"
#define TREECTLD_TRANSACTION_PATH TREECTLD_BASE_PATH "/Transaction"

typedef struct _TreectldTransaction TreectldTransaction;

typedef struct
{
  char *sysroot_path;
  gboolean peer_mode;
  guint idle_exit_timeout; /* seconds, 0 = never */
  guint start_timeout;     /* seconds */
  char *runtime_dir;       /* where transaction sockets live */
  GMainLoop *loop;
  GDBusConnection *connection;
  GDBusObjectManagerServer *manager;
  TreectlSysroot *sysroot_iface;
  GHashTable *os_objects; /* osname -> TreectlObjectSkeleton */
  OstreeSysroot *sysroot; /* for status; NULL when the path is not (yet) a sysroot */
  TreectldTransaction *active;    /* running (not yet finished) transaction */
  GPtrArray *finished;            /* finished transactions kept for late clients */
  gint64 last_activity;
  gboolean peer_closed;
} TreectldDaemon;

/* The one daemon of this process. */
TreectldDaemon *treectld_daemon_get (void);

gboolean treectld_daemon_start (TreectldDaemon *daemon, GDBusConnection *connection,
                                GError **error);
/* Re-reads the sysroot and republishes Deployments and the OS objects. */
void treectld_daemon_reload (TreectldDaemon *daemon);
void treectld_daemon_touch (TreectldDaemon *daemon);
/* Called by a transaction when it finishes (on the main thread). */
void treectld_daemon_transaction_finished (TreectldDaemon *daemon, TreectldTransaction *txn);
/* Called when a transaction has no more use (finished and no peers, or dropped). */
void treectld_daemon_transaction_closed (TreectldDaemon *daemon, TreectldTransaction *txn);
/* Sets the ActiveTransaction property from daemon->active. */
void treectld_daemon_publish_active (TreectldDaemon *daemon);

G_END_DECLS
