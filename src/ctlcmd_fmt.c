/* ctlcmd_fmt.c: how ilbd answers ilbctl: JSON, tables and one-line results. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ctl.h"
#include "ctlcmd.h"
#include "ctlcmd_int.h"

#define CTLCMD_JSON_DEPTH	31

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t
ctlcmd_utf8_len(const unsigned char *s)
{
	uint32_t	cp;
	size_t		n, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (n);
}

void
ctlcmd_json_string(struct evbuffer *out, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	evbuffer_add(out, "\"", 1);
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			evbuffer_add_printf(out, "\\%c", *s);
			s++;
		} else if (*s == '\n' || *s == '\t' || *s == '\r') {
			evbuffer_add_printf(out, "\\%c",
			    *s == '\n' ? 'n' : *s == '\t' ? 't' : 'r');
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			evbuffer_add_printf(out, "\\u%04x", *s);
			s++;
		} else if ((n = ctlcmd_utf8_len(s)) == 0) {
			evbuffer_add(out, "\\ufffd", 6);
			s++;
		} else {
			evbuffer_add(out, s, n);
			s += n;
		}
	}
	evbuffer_add(out, "\"", 1);
}

void
ctlcmd_json_init(struct ctlcmd_json *j, struct evbuffer *out)
{
	j->out = out;
	j->depth = 0;
	j->more = 0;
}

/* The comma before a member and its key (NULL in arrays). */
static void
ctlcmd_json_sep(struct ctlcmd_json *j, const char *key)
{
	if (j->more & (1U << j->depth))
		evbuffer_add(j->out, ",", 1);
	j->more |= 1U << j->depth;
	if (key != NULL) {
		ctlcmd_json_string(j->out, key);
		evbuffer_add(j->out, ":", 1);
	}
}

/* Open '{' or '[' as member key. */
void
ctlcmd_json_open(struct ctlcmd_json *j, const char *key, char c)
{
	ctlcmd_json_sep(j, key);
	evbuffer_add(j->out, &c, 1);
	if (j->depth < CTLCMD_JSON_DEPTH)
		j->depth++;
	j->more &= ~(1U << j->depth);
}

void
ctlcmd_json_close(struct ctlcmd_json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	evbuffer_add(j->out, &c, 1);
}

/* A string member; NULL: null. */
void
ctlcmd_json_str(struct ctlcmd_json *j, const char *key, const char *v)
{
	ctlcmd_json_sep(j, key);
	if (v == NULL)
		evbuffer_add(j->out, "null", 4);
	else
		ctlcmd_json_string(j->out, v);
}

void
ctlcmd_json_num(struct ctlcmd_json *j, const char *key, uint64_t v)
{
	ctlcmd_json_sep(j, key);
	evbuffer_add_printf(j->out, "%llu", (unsigned long long)v);
}

void
ctlcmd_json_bool(struct ctlcmd_json *j, const char *key, int v)
{
	ctlcmd_json_sep(j, key);
	if (v)
		evbuffer_add(j->out, "true", 4);
	else
		evbuffer_add(j->out, "false", 5);
}

/* One label value up to its closing quote into v; the end, or NULL. */
static const char *
ctlcmd_label_value(const char *p, char *v, size_t len)
{
	size_t	n = 0;

	for (; *p != '"'; p++) {
		if (*p == '\0' || n + 1 >= len)
			return (NULL);
		if (*p == '\\') {
			p++;
			if (*p != '\\' && *p != '"' && *p != 'n')
				return (NULL);
			v[n++] = *p == 'n' ? '\n' : *p;
		} else
			v[n++] = *p;
	}
	v[n] = '\0';
	return (p + 1);
}

int
ctlcmd_labels_json(struct evbuffer *out, const char *labels)
{
	struct evbuffer		*tmp;
	struct ctlcmd_json	 j;
	char			 k[64], v[256];
	const char		*p = labels, *eq;
	int			 rc = 0;

	if ((tmp = evbuffer_new()) == NULL)
		return (-1);
	ctlcmd_json_init(&j, tmp);
	ctlcmd_json_open(&j, NULL, '{');
	while (*p != '\0' && rc == 0) {
		if ((eq = strchr(p, '=')) == NULL || eq == p ||
		    (size_t)(eq - p) >= sizeof(k) || eq[1] != '"' ||
		    (memcpy(k, p, (size_t)(eq - p)), k[eq - p] = '\0',
		    (p = ctlcmd_label_value(eq + 2, v, sizeof(v))) == NULL)) {
			rc = -1;
			break;
		}
		ctlcmd_json_str(&j, k, v);
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			rc = -1;
	}
	ctlcmd_json_close(&j, '}');
	if (rc == 0)
		evbuffer_add_buffer(out, tmp);
	evbuffer_free(tmp);
	return (rc);
}

/* --- tables --- */

void
ctlcmd_table_init(struct ctlcmd_table *t, const struct ctlcmd_col *cols,
    unsigned int ncols)
{
	unsigned int	i;

	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols < CTLCMD_COLS_MAX ? ncols : CTLCMD_COLS_MAX;
	for (i = 0; i < t->ncols; i++)
		t->width[i] = strlen(cols[i].head);
}

void
ctlcmd_table_measure(struct ctlcmd_table *t, const char *const *row)
{
	size_t		len;
	unsigned int	i;

	for (i = 0; i < t->ncols; i++) {
		len = row[i] != NULL ? strlen(row[i]) : 1;
		if (len > t->width[i])
			t->width[i] = len;
	}
}

int
ctlcmd_table_add(struct ctlcmd_table *t, const char *const *row)
{
	char		**cells;
	size_t		  cap;
	unsigned int	  i;

	if (t->nrows == t->cap) {
		cap = t->cap ? t->cap * 2 : 16;
		if ((cells = reallocarray(t->cells, cap * t->ncols,
		    sizeof(*cells))) == NULL)
			return (-1);
		t->cells = cells;
		t->cap = cap;
	}
	cells = t->cells + t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		cells[i] = NULL;
		if (row[i] != NULL && (cells[i] = strdup(row[i])) == NULL) {
			while (i-- > 0)
				free(cells[i]);
			return (-1);
		}
	}
	ctlcmd_table_measure(t, row);
	t->nrows++;
	return (0);
}

/* One text line: numbers right-aligned, two spaces apart, no trailing blanks. */
void
ctlcmd_table_row_text(const struct ctlcmd_table *t, struct evbuffer *out,
    const char *const *cells)
{
	const char	*s;
	unsigned int	 i;

	for (i = 0; i < t->ncols; i++) {
		s = cells[i] != NULL ? cells[i] : "-";
		if (i > 0)
			evbuffer_add(out, "  ", 2);
		if (t->cols[i].type == CTLCMD_NUM)
			evbuffer_add_printf(out, "%*s", (int)t->width[i], s);
		else if (i + 1 == t->ncols)
			evbuffer_add_printf(out, "%s", s);
		else
			evbuffer_add_printf(out, "%-*s", (int)t->width[i], s);
	}
	evbuffer_add(out, "\n", 1);
}

/* The header line (after every row was measured). */
static void
ctlcmd_table_head(const struct ctlcmd_table *t, struct evbuffer *out)
{
	const char	*head[CTLCMD_COLS_MAX];
	unsigned int	 i;

	for (i = 0; i < t->ncols; i++)
		head[i] = t->cols[i].head;
	ctlcmd_table_row_text(t, out, head);
}

void
ctlcmd_table_text(const struct ctlcmd_table *t, struct evbuffer *out)
{
	size_t	r;

	ctlcmd_table_head(t, out);
	for (r = 0; r < t->nrows; r++)
		ctlcmd_table_row_text(t, out,
		    (const char *const *)(t->cells + r * t->ncols));
}

/* One cell as a JSON value of its column's type. */
static void
ctlcmd_table_cell_json(struct ctlcmd_json *j, const struct ctlcmd_col *col,
    const char *s)
{
	if (s == NULL)
		ctlcmd_json_str(j, col->key, NULL);
	else if (col->type == CTLCMD_BOOL)
		ctlcmd_json_bool(j, col->key, strcmp(s, "yes") == 0);
	else if (col->type == CTLCMD_NUM && s[0] >= '0' && s[0] <= '9' &&
	    strspn(s, "0123456789") == strlen(s)) {
		ctlcmd_json_sep(j, col->key);
		evbuffer_add(j->out, s, strlen(s));
	} else
		ctlcmd_json_str(j, col->key, s);
}

/* One row as a JSON object, an element of the array j is in. */
void
ctlcmd_table_row_json(const struct ctlcmd_table *t, struct ctlcmd_json *j,
    const char *const *cells)
{
	unsigned int	i;

	ctlcmd_json_open(j, NULL, '{');
	for (i = 0; i < t->ncols; i++)
		ctlcmd_table_cell_json(j, &t->cols[i], cells[i]);
	ctlcmd_json_close(j, '}');
}

void
ctlcmd_table_json(const struct ctlcmd_table *t, struct evbuffer *out)
{
	struct ctlcmd_json	j;
	size_t			r;

	ctlcmd_json_init(&j, out);
	ctlcmd_json_open(&j, NULL, '[');
	for (r = 0; r < t->nrows; r++)
		ctlcmd_table_row_json(t, &j,
		    (const char *const *)(t->cells + r * t->ncols));
	ctlcmd_json_close(&j, ']');
}

void
ctlcmd_table_free(struct ctlcmd_table *t)
{
	size_t	i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/*
 * The usual answer: the table as text, or {"name": [rows]} in JSON. The
 * caller adds JSON members after it (then closes) when extra is set.
 */
void
ctlcmd_table_emit(const struct ctlcmd_table *t, const char *name, int json,
    struct evbuffer *out, struct ctlcmd_json *j)
{
	if (!json) {
		ctlcmd_table_text(t, out);
		return;
	}
	ctlcmd_json_init(j, out);
	ctlcmd_json_open(j, NULL, '{');
	ctlcmd_json_sep(j, name);
	ctlcmd_table_json(t, out);
}

void
ctlcmd_json_end(struct ctlcmd_json *j)
{
	ctlcmd_json_close(j, '}');
	evbuffer_add(j->out, "\n", 1);
}

/* A one-line answer: the line, or {"result": "line"}. */
int
ctlcmd_answer(const struct ctl_req *req, struct evbuffer *out,
    const char *line)
{
	struct ctlcmd_json	j;

	if (!req->json) {
		evbuffer_add_printf(out, "%s\n", line);
		return (0);
	}
	ctlcmd_json_init(&j, out);
	ctlcmd_json_open(&j, NULL, '{');
	ctlcmd_json_str(&j, "result", line);
	ctlcmd_json_end(&j);
	return (0);
}
