// SPDX-License-Identifier: BSD-2-Clause
#include <stdbool.h>
#include <string.h>

#include "core/recover.h"
#include "core/state.h"
#include "engine/journal.h"
#include "engine/recovery.h"

int fc_recover_journaled(const char *run_id, const char *by, char *log, size_t loglen)
{
	struct fc_state st;
	bool have = !fc_state_load(run_id, &st);
	struct fc_journal j;
	int err;

	if (loglen)
		log[0] = 0;
	err = fc_recover_run(run_id, log, loglen);
	/* the run's journal gets what was undone: the record survives the crash */
	if (have && st.journal[0] && !fc_journal_append(&j, st.journal)) {
		fc_jbegin(&j, "recover");
		fc_jstr(&j, "run", run_id);
		fc_jbool(&j, "from_guard", !strcmp(by, "guard"));
		fc_jstr(&j, "by", by);
		fc_jbool(&j, "verified", !err);
		fc_jstr(&j, "undone", log);
		fc_jend(&j);
		fc_journal_close(&j);
	}
	return err;
}
