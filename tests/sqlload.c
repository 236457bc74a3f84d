/* sqlload DB: runs the SQL text on standard input against the SQLite file
 * DB (created when missing), for the e2e cases that start from a state an
 * older settle wrote: such a state is kept in the tree as the text
 * `sqlite3 STATE .dump` gives, plus its PRAGMA user_version (the schema
 * version settle reads), never as a binary file. Exit 0, or 1 with the
 * reason on stderr. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	size_t n = 0, cap = 1 << 16, k;
	char *sql = malloc(cap), *msg = NULL;
	sqlite3 *db = NULL;
	int rc;

	if (argc != 2 || !sql) {
		fprintf(stderr, "usage: sqlload DB < SQL\n");
		return 1;
	}
	while ((k = fread(sql + n, 1, cap - n - 1, stdin)) > 0) {
		n += k;
		if (n + 1 == cap && !(sql = realloc(sql, cap *= 2))) {
			fprintf(stderr, "sqlload: out of memory\n");
			return 1;
		}
	}
	sql[n] = '\0';
	rc = sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	/* the journal mode the older settle left its state in */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
				  &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "sqlload: %s: %s\n", argv[1],
			msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	if (sqlite3_close(db) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_ERROR;
	free(sql);
	return rc == SQLITE_OK ? 0 : 1;
}
