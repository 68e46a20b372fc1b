/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl cleanup: drop pending or rollback deployments and prune the repo. */
#include "config.h"

#include "treectl-builtins.h"
#include "treectl-client.h"

static gboolean opt_pending;
static gboolean opt_rollback;
static gboolean opt_repo;

static GOptionEntry entries[] = {
  { "pending", 'p', 0, G_OPTION_ARG_NONE, &opt_pending,
    "Remove deployments queued ahead of the booted one", NULL },
  { "rollback", 'r', 0, G_OPTION_ARG_NONE, &opt_rollback,
    "Remove deployments behind the booted (or default) one", NULL },
  { "repo", 0, 0, G_OPTION_ARG_NONE, &opt_repo,
    "Prune objects no ref or deployment uses and report the space freed", NULL },
  { NULL },
};

int
treectl_builtin_cleanup (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- free space");
  g_option_context_set_description (
      context, "At least one of --pending, --rollback, --repo is required. Pinned deployments\n"
               "and the booted (or default) deployment are never removed.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_OS, error))
    return 1;
  if (argc > 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "cleanup takes no arguments (got \"%s\")", argv[1]),
            1);
  if (!opt_pending && !opt_rollback && !opt_repo)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "cleanup needs at least one of --pending, --rollback, --repo"),
            1);
  g_autoptr(GPtrArray) elements = g_ptr_array_new ();
  if (opt_pending)
    g_ptr_array_add (elements, "pending");
  if (opt_rollback)
    g_ptr_array_add (elements, "rollback");
  if (opt_repo)
    g_ptr_array_add (elements, "repo");
  g_ptr_array_add (elements, NULL);
  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  g_autofree char *address = NULL;
  if (!treectl_os_call_cleanup_sync (os, (const char *const *)elements->pdata,
                                     g_variant_new ("a{sv}", NULL), &address, cancellable, error))
    return 1;
  return treectl_client_run_and_finish (client, address, FALSE, cancellable, error);
}
