/* galley-test-util.h: helpers shared by the test programs. */
#pragma once

#include <galley/galley.h>
#include <gio/gio.h>

typedef struct {
  int   status;     /* exit code, or 128 + signal */
  char *out;
  char *err;
} RunResult;

void       run_result_free (RunResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunResult, run_result_free)

/* Runs the built `galley` in @cwd with @stdin_data (may be NULL) and the
 * NULL-terminated arguments. */
RunResult *galley_test_run (const char *cwd, const char *stdin_data, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
RunResult *galley_test_runv (const char *cwd, const char *stdin_data, const char *const *args);
/* The same with standard input read from the file @stdin_path (any bytes). */
RunResult *galley_test_run_stdin_file (const char *cwd, const char *stdin_path, const char *first_arg, ...)
  G_GNUC_NULL_TERMINATED;

/* A fresh temporary directory, removed by galley_test_rmdir(). */
char      *galley_test_mkdtemp (void);
void       galley_test_rmdir (const char *dir);

/* Writes @len bytes (-1: NUL-terminated) to @dir/@name, creating parents. */
void       galley_test_write (const char *dir, const char *name, const char *content, gssize len);
/* The same, returning the path (free it). */
char      *galley_test_write_path (const char *dir, const char *name, const char *content, gssize len);

/* Parses a JSONL file; fails the test on a malformed line. */
GPtrArray *galley_test_read_jsonl (const char *path);

/* id -> number of records with it (GUINT_TO_POINTER), over the JSONL files
 * of @dir named PREFIX*.jsonl (temporary files of a killed run are not). */
GHashTable *galley_test_exported_ids (const char *dir, const char *prefix);

/* The record's string member @key, or NULL. */
const char *galley_test_get_string (json_object *obj, const char *key);

/* The JSON file @dir/@name, parsed; the test fails when it is missing or
 * not JSON. */
json_object *galley_test_read_json (const char *dir, const char *name);

/* A g_test_add fixture holding a fresh temporary directory. */
typedef struct {
  char *dir;
} Fixture;
void galley_test_fixture_setup    (Fixture *f, gconstpointer data);
void galley_test_fixture_teardown (Fixture *f, gconstpointer data);
#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, galley_test_fixture_setup, func, galley_test_fixture_teardown)

/* Path of a file in the source tree. */
char      *galley_test_srcpath (const char *first, ...) G_GNUC_NULL_TERMINATED;

/* From now on warnings and messages are collected instead of printed
 * (and are no longer fatal); galley_test_take_logs() returns them, one
 * "domain: message" a line, and starts over. */
void       galley_test_capture_logs (void);
char      *galley_test_take_logs (void);
