/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The generated D-Bus bindings plus the autoptr cleanups gdbus-codegen leaves out for the
 * interface types. Shared by treectld and treectl. */
#pragma once

#include "treectl-generated.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TreectlSysroot, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TreectlOS, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TreectlTransaction, g_object_unref)
