/* SPDX-License-Identifier: LGPL-2.1-or-later
 * One transaction: a private peer-to-peer D-Bus server carrying a Transaction object, a
 * worker thread running one libtreectl operation under the sysroot lock, and its progress. */
#pragma once

#include <gio/gunixfdlist.h>

#include <ostree.h>

#include "treectld-daemon.h"

G_BEGIN_DECLS

/* Runs in the worker thread with the sysroot locked (@sysroot is NULL for operations that
 * create the sysroot). Sets *out_result (a{sv}) on success. */
typedef gboolean (*TreectldTxnFunc) (TreectldTransaction *txn, OstreeSysroot *sysroot,
                                     GVariant **out_result, GCancellable *cancellable,
                                     GError **error);

TreectldTransaction *treectld_transaction_new (TreectldDaemon *daemon, const char *title,
                                               const char *method, GVariant *params,
                                               const char *sender, uid_t uid,
                                               gboolean needs_sysroot, TreectldTxnFunc func,
                                               GError **error);
TreectldTransaction *treectld_transaction_ref (TreectldTransaction *txn);
void treectld_transaction_unref (TreectldTransaction *txn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TreectldTransaction, treectld_transaction_unref)

const char *treectld_transaction_get_address (TreectldTransaction *txn);
const char *treectld_transaction_get_title (TreectldTransaction *txn);
const char *treectld_transaction_get_sender (TreectldTransaction *txn);
/* File descriptors that came with the request (a GUnixFDList the handles in the parameters
 * index), kept until the transaction goes away. */
void treectld_transaction_set_fd_list (TreectldTransaction *txn, GUnixFDList *fd_list);
GUnixFDList *treectld_transaction_get_fd_list (TreectldTransaction *txn);
/* The (method, parameters) the transaction was created for. */
GVariant *treectld_transaction_get_params (TreectldTransaction *txn);
gboolean treectld_transaction_is_started (TreectldTransaction *txn);
/* Whether a new call is the same request, so its caller joins this transaction. */
gboolean treectld_transaction_matches (TreectldTransaction *txn, const char *method,
                                       GVariant *params);
/* Ends a transaction that was never started, telling any connected client why. */
void treectld_transaction_drop (TreectldTransaction *txn, const char *reason);

G_END_DECLS
