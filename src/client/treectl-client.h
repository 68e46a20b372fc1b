/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The CLI's side of D-Bus: reaching treectld (system bus, or a private peer daemon for
 * --sysroot), running a transaction to its end while rendering progress. */
#pragma once

#include <gio/gio.h>

#include "treectl-dbus.h"

G_BEGIN_DECLS

typedef struct
{
  GDBusConnection *connection;
  const char *bus_name; /* NULL on a peer connection */
  GSubprocess *daemon;  /* the private treectld, in --sysroot mode */
  TreectlSysroot *sysroot;
} TreectlClient;

void treectl_client_free (TreectlClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TreectlClient, treectl_client_free)

/* Connects to the system treectld, or spawns a private one for @sysroot_path (non-NULL). */
TreectlClient *treectl_client_connect (const char *sysroot_path, GCancellable *cancellable,
                                       GError **error);

/* The OS object for @osname ("" = the booted or default stateroot). */
TreectlOS *treectl_client_get_os (TreectlClient *client, const char *osname,
                                  GCancellable *cancellable, GError **error);

/* Fresh Deployments (aa{sv}) and ActiveTransaction ((sss)) read from the daemon. */
GVariant *treectl_client_get_property (TreectlClient *client, const char *name,
                                       GCancellable *cancellable, GError **error);

/* Connects to a transaction, starts it, renders its progress until Finished. Ctrl-C
 * cancels it. Returns the result dict, or NULL with the transaction's error. */
GVariant *treectl_client_run_transaction (TreectlClient *client, const char *address,
                                          GCancellable *cancellable, GError **error);

/* Prints the result's message and returns the exit code: 0, or 77 when nothing changed
 * and @unchanged_is_77. */
int treectl_client_finish (GVariant *result, gboolean unchanged_is_77);

/* Runs the transaction at @address and prints its outcome; returns the exit code (1 with
 * @error set on failure). */
int treectl_client_run_and_finish (TreectlClient *client, const char *address,
                                   gboolean unchanged_is_77, GCancellable *cancellable,
                                   GError **error);

/* Connects (per --sysroot) and returns the OS object chosen by --os. */
TreectlClient *treectl_client_connect_os (TreectlOS **out_os, GCancellable *cancellable,
                                          GError **error);

/* The base commit (base-checksum, or checksum when nothing is layered) of the deployment
 * operations on @os start from: the booted one of that stateroot, else its first. */
char *treectl_client_get_current_base (TreectlClient *client, TreectlOS *os,
                                       GCancellable *cancellable, GError **error);

/* Strips D-Bus error decoration so messages read the same over bus and peer. */
void treectl_client_strip_error (GError *error);

G_END_DECLS
