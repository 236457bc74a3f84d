/* store_sql: the state's connection and the SQL primitives of the store
 * layer (store_sql.h). */
#include "store_sql.h"

#include <sqlite3.h>

#include "banned.h"

int store_db_fail(struct store *s, struct err *e, const char *what)
{
	return err_set(e, ST_ERROR, "%s in state file '%s': %s", what,
		       s->path, sqlite3_errmsg(s->db));
}

int store_exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ST_ERROR, "cannot update state file '%s': %s",
			s->path, msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3_stmt *store_prep(struct store *s, const char *sql, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_fail(s, e, "cannot prepare query");
		return NULL;
	}
	return st;
}

/* Steps a statement that returns no rows, then finalizes it. */
int store_run(struct store *s, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_db_fail(s, e, "cannot write");
		return -1;
	}
	return 0;
}

/* Ends a row loop: finalizes st; the callback's non-zero r, a step error
 * (rc not SQLITE_DONE), or 0. */
int store_rows_done(struct store *s, sqlite3_stmt *st, int rc, int r,
		     struct err *e)
{
	sqlite3_finalize(st);
	if (r)
		return r;
	if (rc != SQLITE_DONE)
		return store_db_fail(s, e, "cannot read"), -1;
	return 0;
}

int store_has_column(struct store *s, const char *table, const char *col,
		     int *yes, struct err *e)
{
	sqlite3_stmt *st = store_prep(s, "SELECT count(*) FROM pragma_table_info(?1)"
				" WHERE name = ?2", e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_db_fail(s, e, "cannot read"), -1;
	return 0;
}

struct sqlite3 *store_conn(struct store *s)
{
	return s->db;
}
