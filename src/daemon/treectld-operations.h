/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The D-Bus methods of the Sysroot and OS objects: authorize, turn the request into a
 * transaction, and the worker functions that run each one through libtreectl. */
#pragma once

#include "treectld-daemon.h"

G_BEGIN_DECLS

void treectld_operations_connect_sysroot (TreectldDaemon *daemon, TreectlSysroot *sysroot);
void treectld_operations_connect_os (TreectldDaemon *daemon, TreectlOS *os);

G_END_DECLS
