/*
 * fuzz_ctl.c: the control protocol: request and response header lines,
 * the command words, and ilbd's answer to whatever request decodes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ctl.h"
#include "ctlcmd.h"
#include "fuzz.h"
#include "lb.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_WORDS_MAX	64

static struct evbuffer	*fuzz_out;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_world_init();
	fuzz_world_reset(0);
	fuzz_world_populate(24);
	if ((fuzz_out = evbuffer_new()) == NULL)
		abort();
	return (0);
}

/* ilbd's answer: text or JSON, or an error; never fatal. */
static void
fuzz_handle(const struct ctl_req *req)
{
	struct ctlcmd_view	 v;
	char			*err = NULL;
	int			 rv;

	memset(&v, 0, sizeof(v));
	v.lb = fuzz_lb;
	v.now_ms = fuzz_now;
	rv = ctlcmd_view_handle(&v, req, fuzz_out, &err);
	FUZZ_CHECK(rv == 0 || rv == -1);
	FUZZ_CHECK(rv == 0 || evbuffer_get_length(fuzz_out) == 0);
	free(err);
	evbuffer_drain(fuzz_out, evbuffer_get_length(fuzz_out));
	if (req->cmd == CTL_SERVER_DRAIN || req->cmd == CTL_SERVER_ENABLE ||
	    req->cmd == CTL_SERVER_WEIGHT)
		fuzz_world_restore();
}

/* What ilbctl sends for a parsed request, ilbd decodes to the same. */
static void
fuzz_req_roundtrip(const struct ctl_req *req)
{
	char		 line[CTL_REQ_MAX + 1];
	struct ctl_req	 back;
	char		*cause = NULL;
	int		 n;

	if ((n = ctl_req_encode(req, line, sizeof(line))) == -1)
		return;
	FUZZ_CHECK(n > 0 && n <= CTL_REQ_MAX && line[n - 1] == '\n');
	memset(&back, 0x5a, sizeof(back));
	n = ctl_req_decode(line, (size_t)n, &back, &cause);
	if (n != 0)
		fprintf(stderr, "encoded '%s' decodes as %d: %s\n", line, n,
		    cause != NULL ? cause : "?");
	FUZZ_CHECK(n == 0 && cause == NULL);
	FUZZ_CHECK(memcmp(req, &back, sizeof(back)) == 0);
}

/* The input as one request line. */
static int
fuzz_req_line(const uint8_t *data, size_t size)
{
	struct ctl_req	 req;
	char		*cause = NULL;
	int		 rv;

	memset(&req, 0, sizeof(req));
	rv = ctl_req_decode((const char *)data, size, &req, &cause);
	FUZZ_CHECK(rv == 0 || rv == -1 || rv == -2);
	FUZZ_CHECK(rv == 0 ? cause == NULL : 1);
	free(cause);
	if (rv != 0)
		return (0);
	FUZZ_CHECK((unsigned int)req.cmd < CTL_CMD_MAX);
	FUZZ_CHECK(req.argc >= 0 && req.argc <= CTL_ARGS_MAX);
	fuzz_req_roundtrip(&req);
	fuzz_handle(&req);
	return (1);
}

/* The input as a response header line. */
static void
fuzz_resp_line(const uint8_t *data, size_t size)
{
	char	 line[CTL_HDR_MAX + 1];
	char	*cause = NULL;
	size_t	 len = 0, len2 = 0;
	int	 ok = -1, ok2 = -1, n;

	if (ctl_resp_header_decode((const char *)data, size, &ok, &len,
	    &cause) == -1) {
		free(cause);
		return;
	}
	FUZZ_CHECK(cause == NULL && (ok == 0 || ok == 1 ||
	    ok == CTL_RESP_STREAM));
	FUZZ_CHECK(len <= CTL_BODY_MAX);
	n = ctl_resp_header_encode(line, sizeof(line), ok, len);
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(ctl_resp_header_decode(line, (size_t)n, &ok2, &len2,
	    &cause) == 0);
	FUZZ_CHECK(ok2 == ok && len2 == len);
}

/*
 * The input as ilbctl's command line: words split at NUL bytes (so a word
 * may hold spaces or be empty), or at whitespace too when the first byte
 * is '!'.
 */
static void
fuzz_words(const uint8_t *data, size_t size, int handle)
{
	static char	 buf[65536 + 1];
	char		*argv[FUZZ_WORDS_MAX], *cause = NULL;
	struct ctl_req	 req;
	size_t		 i, start = 0;
	int		 argc = 0, ws = size > 0 && data[0] == '!';

	if (size >= sizeof(buf))
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = start = ws; i <= size && argc < FUZZ_WORDS_MAX; i++) {
		if (i < size && buf[i] != '\0' && !(ws && (buf[i] == ' ' ||
		    buf[i] == '\t' || buf[i] == '\n')))
			continue;
		buf[i] = '\0';
		if (!ws || i > start)
			argv[argc++] = buf + start;
		start = i + 1;
	}
	memset(&req, 0, sizeof(req));
	if (ctl_parse(argc, argv, &req, &cause) == -1) {
		free(cause);
		return;
	}
	FUZZ_CHECK(cause == NULL && (unsigned int)req.cmd < CTL_CMD_MAX);
	fuzz_req_roundtrip(&req);
	req.json = 1;
	fuzz_req_roundtrip(&req);
	if (handle)
		fuzz_handle(&req);
}

/* The JSON writers the answers use, on arbitrary strings. */
static void
fuzz_json(const uint8_t *data, size_t size)
{
	static char	buf[65536 + 1];

	if (size >= sizeof(buf))
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	ctlcmd_json_string(fuzz_out, buf);
	(void)ctlcmd_labels_json(fuzz_out, buf);
	evbuffer_drain(fuzz_out, evbuffer_get_length(fuzz_out));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	handled;

	handled = fuzz_req_line(data, size);
	fuzz_resp_line(data, size);
	fuzz_words(data, size, !handled);
	fuzz_json(data, size);
	return (0);
}
