/* cli_status: `settle status` (SPEC 4 v2): what needs attention. */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "engine.h"
#include "final.h"
#include "ledger.h"
#include "mem.h"
#include "ts.h"
#include "banned.h"

/* What status gathers before printing: read in one snapshot. */
struct status {
	struct final_status *per;
	size_t nper;
	struct store_file *files;
	size_t nfiles;
	uint64_t unplaced;
	int attention;      /* a file failed or unfinished, a period stale */
};

static int add_period(void *ctx, const struct final_status *p)
{
	struct status *st = ctx;

	st->per = xrealloc(st->per, (st->nper + 1) * sizeof(*st->per));
	st->per[st->nper++] = *p;
	return 0;
}

static int add_file(void *ctx, const struct store_file *f)
{
	struct status *st = ctx;
	struct store_file *c;

	st->files = xrealloc(st->files, (st->nfiles + 1) *
			     sizeof(*st->files));
	c = &st->files[st->nfiles++];
	*c = *f;
	c->path = xstrdup(f->path);
	c->error = xstrdup(f->error);
	return 0;
}

static void status_release(struct status *st)
{
	size_t i;

	for (i = 0; i < st->nfiles; i++)
		store_file_release(&st->files[i]);
	free(st->files);
	free(st->per);
}

/* With a config: a period is stale when a close now would rewrite one of
 * its files: a dry-run close of the latest final period says which of
 * the final periods it would change. */
static int stale_by_config(struct store *s, const char *config,
			   struct status *st, struct err *e)
{
	struct catalog cat;
	struct engine *g = NULL;
	struct engine_opts eo;
	struct ledger_result res;
	unsigned char inputs[32];
	size_t i, j;
	int rc = ST_ERROR;

	if (!st->nper)
		return 0;
	if (store_schema(s) < 3)
		return err_set(e, ST_ERROR, "cannot check a state of schema %d "
			       "against a config (any close upgrades it)",
			       store_schema(s));
	memset(&cat, 0, sizeof(cat));
	memset(&res, 0, sizeof(res));
	cli_engine_opts(&eo);
	if (catalog_load(config, &cat, e) || store_dry_writes(s, e) ||
	    ledger_inputs(s, cat.digest, inputs, e) ||
	    !(g = engine_load(s, &cat, &eo, e)) ||
	    ledger_close(s, &cat, g, st->per[st->nper - 1].period, inputs, "",
			 1, &res, e))
		goto out;
	for (i = 0; i < st->nper; i++) {
		st->per[i].stale = 0;
		for (j = 0; j < res.nperiods; j++)
			if (res.periods[j].period == st->per[i].period)
				st->per[i].stale = res.periods[j].changed;
	}
	rc = 0;
out:
	ledger_result_release(&res);
	engine_free(g);
	catalog_release(&cat);
	return rc;
}

/* Reads everything status shows in one read transaction. */
static int gather(struct store *s, const char *config, struct status *st,
		  struct err *e)
{
	size_t i;
	int rc;

	if (config && stale_by_config(s, config, st, e))
		return ST_ERROR;
	if (store_snapshot(s, e))
		return ST_ERROR;
	if (!config)
		rc = final_periods(s, add_period, st, e);
	else
		rc = 0;  /* read before the dry run, which needs them */
	rc = rc || store_files(s, add_file, st, e) ||
	     store_unplaced(s, &st->unplaced, e);
	store_rollback(s);
	if (rc)
		return ST_ERROR;
	for (i = 0; i < st->nper; i++)
		st->attention |= st->per[i].stale;
	for (i = 0; i < st->nfiles; i++)
		st->attention |= st->files[i].state != FILE_OK;
	return 0;
}

static void print_text(const char *db, int schema, const struct status *st)
{
	size_t i;

	printf("state %s (schema %d)\n", ERR_SHOW(db), schema);
	for (i = 0; i < st->nper; i++) {
		const struct final_status *p = &st->per[i];
		char ym[16];

		ts_period_format(p->period, 1, ym);
		printf("period %s final, version %d: %ld invoice%s, %ld "
		       "adjustment%s%s\n", ym, p->version, p->invoices,
		       p->invoices == 1 ? "" : "s", p->adjustments,
		       p->adjustments == 1 ? "" : "s", p->stale ? ", stale" : "");
	}
	for (i = 0; i < st->nfiles; i++) {
		const struct store_file *f = &st->files[i];

		if (f->state == FILE_OK)
			printf("file %s ok: %llu record%s, %llu rejected\n",
			       ERR_SHOW(f->path), (unsigned long long)f->records,
			       f->records == 1 ? "" : "s",
			       (unsigned long long)f->rejected);
		else if (f->state == FILE_FAILED)
			printf("file %s failed: %s\n", ERR_SHOW(f->path),
			       ERR_SHOW(f->error));
		else
			printf("file %s unfinished: checkpoint after %llu "
			       "records (%llu bytes read)\n", ERR_SHOW(f->path),
			       (unsigned long long)f->ck_records,
			       (unsigned long long)f->ck_raw);
	}
	printf("unplaced rejects: %llu\n", (unsigned long long)st->unplaced);
}

/* s as a JSON string (RFC 8259 escapes). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const char *db, int schema, const struct status *st)
{
	size_t i;

	printf("{\"state\":");
	json_str(db);
	printf(",\"schema\":%d,\"periods\":[", schema);
	for (i = 0; i < st->nper; i++) {
		const struct final_status *p = &st->per[i];
		char ym[16];

		ts_period_format(p->period, 1, ym);
		printf("%s{\"period\":\"%s\",\"version\":%d,\"invoices\":%ld,"
		       "\"adjustments\":%ld,\"stale\":%s}", i ? "," : "", ym,
		       p->version, p->invoices, p->adjustments,
		       p->stale ? "true" : "false");
	}
	printf("],\"files\":[");
	for (i = 0; i < st->nfiles; i++) {
		const struct store_file *f = &st->files[i];

		printf("%s{\"path\":", i ? "," : "");
		json_str(f->path);
		if (f->state == FILE_OK)
			printf(",\"state\":\"ok\",\"records\":%llu,"
			       "\"rejected\":%llu}",
			       (unsigned long long)f->records,
			       (unsigned long long)f->rejected);
		else if (f->state == FILE_FAILED) {
			printf(",\"state\":\"failed\",\"error\":");
			json_str(f->error);
			putchar('}');
		} else
			printf(",\"state\":\"unfinished\",\"checkpoint_records\""
			       ":%llu,\"checkpoint_bytes\":%llu}",
			       (unsigned long long)f->ck_records,
			       (unsigned long long)f->ck_raw);
	}
	printf("],\"unplaced_rejects\":%llu,\"attention\":%s}\n",
	       (unsigned long long)st->unplaced,
	       st->attention ? "true" : "false");
}

int cli_status(struct store *s, const char *db, const char *config,
	       int json)
{
	struct status st;
	struct err e;
	int rc;

	memset(&st, 0, sizeof(st));
	err_clear(&e);
	/* with a config the periods are read first: the dry run needs the
	 * latest final one */
	if (config && final_periods(s, add_period, &st, &e))
		rc = ST_ERROR;
	else
		rc = gather(s, config, &st, &e);
	if (rc) {
		fprintf(stderr, "settle: %s\n", e.msg[0] ? ERR_SHOW(e.msg) :
			err_str(e.code));
		status_release(&st);
		return e.code ? e.code : ST_ERROR;
	}
	if (json)
		print_json(db, store_schema(s), &st);
	else
		print_text(db, store_schema(s), &st);
	rc = st.attention ? ST_PARTIAL : ST_OK;
	status_release(&st);
	return rc;
}
