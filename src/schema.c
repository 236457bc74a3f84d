/* schema: every table of the state file and every step of its upgrades
 * (schema.h). The texts are part of the state format: never edit one;
 * a new version adds its step at the end of schema_upgrade. */
#include "schema.h"

#include <sqlite3.h>
#include <stdio.h>

#include "store_sql.h"
#include "banned.h"

/* store.c's and store_files.c's tables (store.h): the registry of usage
 * files, their batches and their rejects. */
static const char *store_tables =
	"CREATE TABLE IF NOT EXISTS file("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  state INTEGER NOT NULL,"       /* enum file_state */
	"  records INTEGER NOT NULL DEFAULT 0,"
	"  rejected INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT NOT NULL DEFAULT '',"
	"  ck_raw INTEGER NOT NULL DEFAULT 0,"
	"  ck_records INTEGER NOT NULL DEFAULT 0,"
	"  ck_seq INTEGER NOT NULL DEFAULT 0);"
	/* at most one current and one loading row per path */
	"CREATE UNIQUE INDEX IF NOT EXISTS file_current ON file(path)"
	"  WHERE state != 0;"
	"CREATE UNIQUE INDEX IF NOT EXISTS file_loading ON file(path)"
	"  WHERE state = 0;"
	"CREATE INDEX IF NOT EXISTS file_sha ON file(sha256);"
	/* a rowid table, so rating can stream a batch's keys with
	 * sqlite3_blob_read */
	"CREATE TABLE IF NOT EXISTS batch("
	"  id INTEGER PRIMARY KEY,"
	"  file_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  nrec INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  keys BLOB NOT NULL);"            /* sorted uint64, host order */
	"CREATE UNIQUE INDEX IF NOT EXISTS batch_seq ON batch(file_id, seq);"
	"CREATE TABLE IF NOT EXISTS reject("
	"  file_id INTEGER NOT NULL,"
	"  line INTEGER NOT NULL,"
	"  record_id TEXT NOT NULL,"
	"  tenant_id TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  PRIMARY KEY(file_id, line)) WITHOUT ROWID;";

/* final.c's tables (final.h). Run by schema_create after the store's own
 * tables when store_open creates a state. The text is part of the state format: SQLite keeps each
 * CREATE as written, so it must not change. */
static const char final_schema[] =
	/* amounts and quantities are dec_t millionths */
	"CREATE TABLE IF NOT EXISTS period("
	"  period INTEGER PRIMARY KEY,"
	"  prefix TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"      /* closes that changed it */
	"  digest BLOB NOT NULL,"          /* SHA-256 of its outputs */
	"  inputs BLOB NOT NULL);"         /* ledger_inputs at its last close */
	"CREATE TABLE IF NOT EXISTS invoice("
	"  period INTEGER NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  number INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency)) WITHOUT ROWID;"
	/* covering what balances and arrears read of every earlier invoice
	 * (version 4): one pass over the index, no look-up per invoice */
	"CREATE INDEX IF NOT EXISTS invoice_account ON invoice(tenant,"
	"  currency, period, number, total);"
	"CREATE TABLE IF NOT EXISTS invoice_line("
	"  period INTEGER NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  item TEXT NOT NULL,"
	"  price_group TEXT NOT NULL,"
	"  usage_qty INTEGER NOT NULL,"
	"  package_qty INTEGER NOT NULL,"
	"  forgiven_qty INTEGER NOT NULL,"
	"  uncovered_qty INTEGER NOT NULL,"
	"  billable_qty INTEGER NOT NULL,"
	"  tiers TEXT NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency, item, price_group))"
	"  WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS adjustment("
	"  period INTEGER NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"          /* the N of -AN */
	"  item TEXT NOT NULL,"            /* '' on the total row */
	"  price_group TEXT NOT NULL,"
	"  old_amount INTEGER NOT NULL,"
	"  new_amount INTEGER NOT NULL,"
	"  PRIMARY KEY(period, tenant, currency, seq, item, price_group))"
	"  WITHOUT ROWID;";

/* The CREATE statements of ckpt.c's tables (ckpt.h), IF NOT EXISTS: run
 * by the upgrade to version 4, on a new state and an older one. */
static const char ckpt_schema[] =
	"CREATE TABLE IF NOT EXISTS ckpt_period("
	"  period INTEGER PRIMARY KEY,"
	"  config BLOB NOT NULL);"       /* config digest it was rated with */
	"CREATE TABLE IF NOT EXISTS ckpt_pkg("
	"  period INTEGER NOT NULL,"
	"  package_id TEXT NOT NULL,"
	"  used INTEGER NOT NULL,"       /* package units used before its end
					  * (fixed point, dec.h) */
	"  alert_ts INTEGER,"            /* NULL: no alert before its end */
	"  alert_left INTEGER,"
	"  PRIMARY KEY(period, package_id)) WITHOUT ROWID;";

/* stamp.c's table (stamp.h), IF NOT EXISTS: run by the upgrade to
 * version 5. */
static const char stamp_schema[] =
	"CREATE TABLE IF NOT EXISTS out_stamp("
	"  period INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  dev INTEGER NOT NULL,"
	"  ino INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  mtime INTEGER NOT NULL,"      /* ns */
	"  ctime INTEGER NOT NULL,"      /* ns */
	"  at INTEGER NOT NULL,"         /* ns: the instant it vouches from */
	"  digest BLOB NOT NULL,"        /* the folder's (report_digest) */
	"  PRIMARY KEY(period, name)) WITHOUT ROWID;";

/* The CREATE statements of carry.c's tables (carry.h), IF NOT EXISTS:
 * run by the upgrade to version 5, on a new state and an older one. */
static const char carry_schema[] =
	"CREATE TABLE IF NOT EXISTS carry_period("
	"  period INTEGER PRIMARY KEY);"  /* its carry is complete */
	"CREATE TABLE IF NOT EXISTS carry_acct("
	"  period INTEGER NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  total INTEGER NOT NULL,"       /* fixed point, dec.h */
	"  first_period INTEGER NOT NULL,"
	"  first_number INTEGER NOT NULL,"
	"  credit INTEGER,"               /* NULL: never trimmed */
	"  left INTEGER,"
	"  open BLOB NOT NULL,"           /* 20 bytes an invoice: period,
					   * number, total, little-endian */
	"  PRIMARY KEY(period, tenant, currency)) WITHOUT ROWID;";

/* Adds a column unless the table has it already. */
static int add_column(struct store *s, const char *t, const char *c,
		      const char *decl, struct err *e)
{
	char sql[256];
	int yes;

	if (store_has_column(s, t, c, &yes, e))
		return -1;
	if (yes)
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", t, c,
		 decl);
	return store_exec(s, sql, e);
}

/* Runs sql for upgrade_final: ST_ERROR with e filled when it fails. */
static int upgrade_exec(struct store *s, const char *sql, struct err *e)
{
	if (sqlite3_exec(store_conn(s), sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return err_set(e, ST_ERROR, "cannot upgrade the state file: %s",
		       sqlite3_errmsg(store_conn(s)));
}

/* Adds column `col` (SQL type and default in def) to table when it is
 * missing; *added says whether it was. */
static int add_final_column(struct store *s, const char *table,
			    const char *col, const char *def, int *added,
			    struct err *e)
{
	char sql[256];
	int yes;

	*added = 0;
	if (store_has_column(s, table, col, &yes, e))
		return ST_ERROR;
	if (yes)
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table,
		 col, def);
	if (upgrade_exec(s, sql, e))
		return ST_ERROR;
	*added = 1;
	return 0;
}

/* Version 3, the close guards' part (store.h): each file's earliest
 * record instant, the log of file changes, the record of every output
 * file version a close wrote, and what a period remembers of its last
 * close. Adds only what is missing, so it runs on any older state. */
static int upgrade_guards(struct store *s, struct err *e)
{
	return add_column(s, "file", "earliest", "INTEGER", e) ||
	       store_exec(s, "CREATE TABLE IF NOT EXISTS file_log("
		    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		    "  path TEXT NOT NULL,"
		    "  earliest INTEGER);"  /* NULL: the change held no record */
		    "CREATE TABLE IF NOT EXISTS written("
		    "  period INTEGER NOT NULL,"
		    "  name TEXT NOT NULL,"
		    "  sha256 BLOB NOT NULL,"
		    "  PRIMARY KEY(period, name, sha256)) WITHOUT ROWID;", e) ||
	       add_column(s, "period", "log_seq", "INTEGER", e) ||
	       add_column(s, "period", "as_of", "INTEGER", e);
}

/* Version 3: the instant of a reject's ts cell, NULL when it has none
 * (or the reject was stored by an older settle, which did not keep it). */
static int upgrade_rejects_ts(struct store *s, struct err *e)
{
	return add_column(s, "reject", "ts", "INTEGER", e);
}

/* Version 4 (issue 17): the access point of a file's checkpoint
 * (store_checkpoint_point), keyed on the column's presence. */
static int upgrade_ck_point(struct store *s, struct err *e)
{
	return add_column(s, "file", "ck_point", "BLOB", e);
}

/* Adds to final.c's tables the columns of STORE_SCHEMA_VERSION that are
 * missing (an older state, or one just created from final_schema).
 * Version 3 (store.h): what a final invoice keeps for good (SPEC 7 v2):
 * its net, tax, tax rate and category, issue and due dates; `total` is
 * net + tax. An invoice of an older state had no tax: its net is its
 * total, tax and rate 0, category and dates '' (the next close derives
 * the dates, see ledger.c). An adjustment keeps its issue date ('' for
 * one of an older state). */
static int upgrade_final(struct store *s, struct err *e)
{
	static const struct {
		const char *table, *col, *def;
	} cols[] = {
		{ "invoice", "net", "INTEGER NOT NULL DEFAULT 0" },
		{ "invoice", "tax", "INTEGER NOT NULL DEFAULT 0" },
		{ "invoice", "tax_rate", "INTEGER NOT NULL DEFAULT 0" },
		{ "invoice", "tax_category", "TEXT NOT NULL DEFAULT ''" },
		{ "invoice", "issue_date", "TEXT NOT NULL DEFAULT ''" },
		{ "invoice", "due_date", "TEXT NOT NULL DEFAULT ''" },
		{ "adjustment", "issue_date", "TEXT NOT NULL DEFAULT ''" },
	};
	sqlite3_stmt *st;
	size_t i;
	int added, covered;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		if (add_final_column(s, cols[i].table, cols[i].col,
				     cols[i].def, &added, e))
			return ST_ERROR;
		/* the net of an invoice from before tax is its total */
		if (added && i == 0 &&
		    upgrade_exec(s, "UPDATE invoice SET net = total", e))
			return ST_ERROR;
	}
	/* version 4: the account index covers number and total */
	if (sqlite3_prepare_v2(store_conn(s), "SELECT count(*) FROM"
			       " pragma_index_info('invoice_account') WHERE"
			       " name = 'total'", -1, &st, NULL) != SQLITE_OK)
		return err_set(e, ST_ERROR, "cannot upgrade the state file: %s",
			       sqlite3_errmsg(store_conn(s)));
	covered = sqlite3_step(st) == SQLITE_ROW &&
		  sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return covered ? 0 :
	       upgrade_exec(s, "DROP INDEX IF EXISTS invoice_account;"
			    " CREATE INDEX invoice_account ON invoice(tenant,"
			    " currency, period, number, total);", e);
}

/* Version 4 (issue 14): each batch's range of record instants (NULL in
 * an older batch: rating decodes it whatever it rates from) and the
 * tables of ckpt.c, what each final period left of every package. */
static int upgrade_ckpt(struct store *s, struct err *e)
{
	return add_column(s, "batch", "min_ts", "INTEGER", e) ||
	       add_column(s, "batch", "max_ts", "INTEGER", e) ||
	       store_exec(s, ckpt_schema, e);
}

/* Version 5 (issue 14): the stat stamps of each final period's files
 * (stamp.h), so that a close reads an earlier folder only when one may
 * have changed. A state upgraded has none: its next close hashes every
 * folder once, as before, and records them. */
static int upgrade_stamps(struct store *s, struct err *e)
{
	return store_exec(s, stamp_schema, e);
}

/* Version 5 (issue 14): the tables of carry.c, what each final period
 * leaves of the history to the next close (none yet: an upgraded state
 * reads the history until a close keeps one). */
static int upgrade_carry(struct store *s, struct err *e)
{
	return store_exec(s, carry_schema, e);
}

int schema_create(struct store *s, struct err *e)
{
	return store_exec(s, store_tables, e) ||
	       store_exec(s, final_schema, e) ? -1 : 0;
}

/* In the order store_open has always run them: the order in which
 * SQLite appends each added column to its table's CREATE text. */
int schema_upgrade(struct store *s, struct err *e)
{
	return upgrade_guards(s, e) || upgrade_rejects_ts(s, e) ||
	       upgrade_ck_point(s, e) || upgrade_final(s, e) ||
	       upgrade_ckpt(s, e) || upgrade_stamps(s, e) ||
	       upgrade_carry(s, e) ? -1 : 0;
}
