/* docker's --format templates: docker's documented examples, control flow, functions, errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/base/template.h"

static const char *inspect_json =
	"{\"Name\":\"/web\",\"Id\":\"3f8a9c0d1e2b4a5f\",\"LogPath\":\"/var/lib/vmm/c/web.log\","
	"\"State\":{\"Status\":\"running\",\"ExitCode\":0,\"Running\":true,\"Pid\":42},"
	"\"Config\":{\"Image\":\"busybox\",\"Env\":[\"A=1\",\"B=2\"],\"Cmd\":[\"httpd\",\"-f\"],"
	"\"Labels\":{\"com.example.version\":\"1.0\",\"tier\":\"web\"}},"
	"\"NetworkSettings\":{\"IPAddress\":\"10.0.2.15\",\"Networks\":{\"bridge\":{\"IPAddress\":\"10.0.2.15\"},"
	"\"other\":{\"IPAddress\":\"10.0.3.4\"}},\"Ports\":{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}],"
	"\"443/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8443\"}]}},"
	"\"Mounts\":[],\"Names\":[\"web\",\"frontend\"],\"Image\":\"ubuntu:latest\",\"Size\":1.5}";

/* Render src against data; returns the output (malloc'd) or "ERR: message". */
static char *render(const char *src, const char *data)
{
	json_object *d = json_tokener_parse(data);
	struct template *t;
	struct error e = { 0 };
	char *out = NULL;
	size_t len;
	FILE *f;

	if (template_parse(src, &t, &e)) {
		json_object_put(d);
		if (asprintf(&out, "ERR: %s", e.msg) < 0)
			abort();
		return out;
	}
	f = open_memstream(&out, &len);
	if (template_render(t, d, f, &e)) {
		fclose(f);
		free(out);
		if (asprintf(&out, "ERR: %s", e.msg) < 0)
			abort();
	} else {
		fclose(f);
	}
	template_free(t);
	json_object_put(d);
	return out;
}

static void expect(const char *src, const char *want)
{
	char *got = render(src, inspect_json);

	ok(!strcmp(got, want), "%s -> '%s' (got '%s')", src, want, got);
	free(got);
}

static void expect_err(const char *src, const char *want)
{
	char *got = render(src, inspect_json);

	ok(!strncmp(got, "ERR: template: ", 15) && strstr(got, want), "%s refused with '%s' (got '%s')",
	   src, want, got);
	free(got);
}

/* docker inspect --format examples from docker's documentation. */
static void test_docker_inspect_examples(void)
{
	expect("{{.NetworkSettings.IPAddress}}", "10.0.2.15");
	expect("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "10.0.2.1510.0.3.4");
	expect("{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}", "10.0.2.15\n10.0.3.4\n");
	expect("{{.LogPath}}", "/var/lib/vmm/c/web.log");
	expect("{{.Config.Image}}", "busybox");
	expect("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}",
	       " 443/tcp -> 8443  80/tcp -> 8080 ");
	expect("{{json .Config.Labels}}", "{\"com.example.version\":\"1.0\",\"tier\":\"web\"}");
	expect("{{index .Config.Labels \"com.example.version\"}}", "1.0");
	expect("{{.State.ExitCode}}", "0");
	expect("{{.State.Running}}", "true");
}

/* The functions docker adds, with its documented examples. */
static void test_docker_functions(void)
{
	expect("{{join .Names \" , \"}}", "web , frontend");
	expect("{{join .Config.Cmd \" \"}}", "httpd -f");
	expect("{{lower \"ABC\"}} {{upper .Config.Image}} {{title \"hello world\"}}", "abc BUSYBOX Hello World");
	expect("{{split .Image \":\"}}", "[ubuntu latest]");
	expect("{{json .Mounts}}", "[]");
	expect("{{len .Name}} {{len .Names}} {{len .Config.Labels}}", "4 2 2");
	expect("{{truncate .Id 12}}", "3f8a9c0d1e2b");
	expect("[{{pad .Config.Image 2 3}}]", "[  busybox   ]");
	expect("{{.Name | printf \"%q\"}}", "\"/web\"");
	expect("{{printf \"%-8s|%5d|%05d|%.2f|%x\" .Config.Image .State.Pid .State.Pid .Size 255}}",
	       "busybox |   42|00042|1.50|ff");
	expect("{{print \"a\" 1 2 \"b\"}}", "a1 2b");
	expect("{{.Config.Image | upper | printf \"<%s>\"}}", "<BUSYBOX>");
}

static void test_values(void)
{
	expect("{{.}}", "map[Config:map[Cmd:[httpd -f] Env:[A=1 B=2] Image:busybox Labels:map[com.example.version:1.0 "
	       "tier:web]] Id:3f8a9c0d1e2b4a5f Image:ubuntu:latest LogPath:/var/lib/vmm/c/web.log Mounts:[] Name:/web "
	       "Names:[web frontend] NetworkSettings:map[IPAddress:10.0.2.15 Networks:map[bridge:map[IPAddress:10.0.2.15] "
	       "other:map[IPAddress:10.0.3.4]] Ports:map[443/tcp:[map[HostIp:0.0.0.0 HostPort:8443]] "
	       "80/tcp:[map[HostIp:0.0.0.0 HostPort:8080]]]] Size:1.5 State:map[ExitCode:0 Pid:42 Running:true "
	       "Status:running]]");
	expect("{{.Config.Env}}", "[A=1 B=2]");
	expect("{{.Nope}}", "<no value>");
	expect("{{.Config.Nope.Deeper}}", "<no value>");
	expect("{{/* a comment */}}", "");
	expect("x{{ .Config.Image }}y", "xbusyboxy");
	expect("a  {{- .Config.Image -}}  b", "abusyboxb");
	expect("{{`raw \"q\" \\x`}}", "raw \"q\" \\x");
	expect("tab\\there", "tab\there");
}

static void test_control_flow(void)
{
	expect("{{if .State.Running}}up{{else}}down{{end}}", "up");
	expect("{{if .Nope}}yes{{else if eq .State.Status \"running\"}}running{{else}}no{{end}}", "running");
	expect("{{if not .Mounts}}none{{end}}", "none");
	expect("{{if and .State.Running (eq .State.Pid 42)}}ok{{end}}", "ok");
	expect("{{if or .Nope .Name}}{{.Name}}{{end}}", "/web");
	expect("{{if gt .State.Pid 40}}big{{end}}{{if lt .State.Pid 40}}small{{end}}", "big");
	expect("{{if ne .Config.Image \"alpine\"}}not alpine{{end}}", "not alpine");
	expect("{{with .State}}{{.Status}}/{{.Pid}}{{end}}", "running/42");
	expect("{{with .Nope}}x{{else}}empty{{end}}", "empty");
	expect("{{range .Mounts}}m{{else}}no mounts{{end}}", "no mounts");
	expect("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "0=A=1;1=B=2;");
	expect("{{range $e := .Names}}{{$e}},{{end}}", "web,frontend,");
	expect("{{range .Config.Env}}{{.}} {{$.Config.Image}} {{end}}", "A=1 busybox B=2 busybox ");
	expect("{{$n := .Config.Image}}{{$n}}-{{$n}}", "busybox-busybox");
	expect("{{index .Config.Cmd 1}}", "-f");
}

static void test_errors(void)
{
	expect_err("{{.Config.Image", "unclosed action");
	expect_err("{{if .Name}}x", "missing {{end}}");
	expect_err("{{end}}", "unexpected {{end}}");
	expect_err("{{nosuch .Name}}", "function \"nosuch\" not defined");
	expect_err("{{.Name.First}}", "can't evaluate field First in a string");
	expect_err("{{index .Config.Cmd 5}}", "index out of range: 5");
	expect_err("{{$x}}", "undefined variable $x");
	expect_err("{{.Name .Id}}", "can't give an argument to a non-function");
	expect_err("{{\"abc}}", "unterminated string");
	expect_err("{{(.Name}}", "unclosed parenthesis");
	expect_err("{{len 3}}", "len of int");
	expect_err("{{join .Names}}", "wrong number of arguments for join");
	expect_err("{{template \"x\"}}", "named templates are not supported");
	expect_err("{{range .Name}}{{end}}", "range can't iterate over");
}

static void test_table(void)
{
	struct template *t;
	struct error e = { 0 };
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ok(template_parse("table {{.ID}}\\t{{.Names}}", &t, &e) == 0 && template_is_table(t),
	   "table prefix recognised");
	template_free(t);
	ok(template_parse("{{.ID}}", &t, &e) == 0 && !template_is_table(t), "no table without the prefix");
	template_free(t);
	template_align("CONTAINER ID\tNAMES\tSTATUS\nabc\tweb\tUp 2 minutes\n", f);
	fclose(f);
	ok(!strcmp(out, "CONTAINER ID   NAMES     STATUS\nabc            web       Up 2 minutes\n"),
	   "columns aligned as docker's tabwriter (min 10, padding 3): '%s'", out);
	free(out);
}

static void test_print_rows(void)
{
	json_object *rows = json_tokener_parse("[{\"Name\":\"web\",\"Size\":3},{\"Name\":\"database\",\"Size\":12}]");
	json_object *header = json_tokener_parse("{\"Name\":\"NAME\",\"Size\":\"SIZE\"}");
	struct template *t;
	struct error e = { 0 };
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ok(template_parse("table {{.Size}}\\t{{.Name}}", &t, &e) == 0 &&
	   template_print(t, header, rows, f, &e) == 0, "a table of two rows");
	fclose(f);
	ok(!strcmp(out, "SIZE      NAME\n3         web\n12        database\n"),
	   "the header row comes from the template's own fields: '%s'", out);
	template_free(t);
	free(out);
	f = open_memstream(&out, &len);
	ok(template_parse("{{.Name}}={{.Size}}", &t, &e) == 0 && template_print(t, header, rows, f, &e) == 0,
	   "rows without a table");
	fclose(f);
	ok(!strcmp(out, "web=3\ndatabase=12\n"), "one line per row, no header: '%s'", out);
	template_free(t);
	free(out);
	json_object_put(rows);
	json_object_put(header);
}

/* Print rows (a JSON array) through src, parsed for a list command; "ERR: message" on failure. */
static char *print_rows(const char *src, const char *rows_json)
{
	json_object *rows = json_tokener_parse(rows_json);
	json_object *header = json_tokener_parse("{\"Name\":\"NAME\",\"Actor\":\"ACTOR\"}");
	struct template *t = NULL;
	struct error e = { 0 };
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);
	int ret = template_parse_rows(src, &t, &e);

	if (!ret)
		ret = template_print(t, header, rows, f, &e);
	fclose(f);
	if (ret) {
		free(out);
		if (asprintf(&out, "ERR: %s", e.msg) < 0)
			abort();
	}
	template_free(t);
	json_object_put(rows);
	json_object_put(header);
	return out;
}

static void expect_rows(const char *src, const char *rows, const char *want)
{
	char *got = print_rows(src, rows);

	ok(!strcmp(got, want), "rows %s -> '%s' (got '%s')", src, want, got);
	free(got);
}

/* ps, images...: a row is a Go struct in docker, so an unknown field is an error, not <no value>. */
static void test_strict_rows(void)
{
	const char *one = "[{\"Name\":\"web\",\"Size\":null,\"Actor\":{\"ID\":\"ab\",\"Attributes\":{}}}]";

	expect_rows("{{.Name}}", one, "web\n");
	expect_rows("{{.Foo}}", one, "ERR: template: executing at <.Foo>: can't evaluate field Foo");
	expect_rows("{{$.Foo}}", one, "ERR: template: executing at <.Foo>: can't evaluate field Foo");
	expect_rows("{{.Name}} {{.Foo.Bar}}", one, "ERR: template: executing at <.Foo>: can't evaluate field Foo");
	expect_rows("{{.Size}}", one, "<no value>\n");	/* a field that is there, but null */
	expect_rows("{{.Actor.Attributes.name}}", one, "<no value>\n");	/* nested: a map, as in docker */
	expect_rows("{{with .Actor}}{{.Nope}}{{end}}", one, "<no value>\n");
	/* no row, no execution: docker prints nothing and succeeds */
	expect_rows("{{.Foo}}", "[]", "");
	/* a table's header is a map in docker: <no value> there, the rows still fail */
	expect_rows("table {{.Name}}\t{{.Foo}}", "[]", "NAME      <no value>\n");
	expect_rows("table {{.Name}}\t{{.Foo}}", one, "ERR: template: executing at <.Foo>: can't evaluate field Foo");
	expect_rows("json", one, "{\"Name\":\"web\",\"Size\":null,\"Actor\":{\"ID\":\"ab\",\"Attributes\":{}}}\n");
	/* template_parse (inspect's) keeps the map behaviour */
	expect("{{.Nope}}", "<no value>");
}

/* docker's .Label "KEY" method: ps rows join labels "k=v,...", inspect's are an object */
static void test_label_method(void)
{
	const char *rows = "[{\"Names\":\"web\",\"Labels\":\"com.example.version=1.0,tier=web,x=\"}]";

	expect_rows("{{.Label \"tier\"}}", rows, "web\n");
	expect_rows("{{.Names}}: {{.Label \"com.example.version\"}}", rows, "web: 1.0\n");
	expect_rows("[{{.Label \"x\"}}][{{.Label \"missing\"}}][{{.Label \"tie\"}}]", rows, "[][][]\n");
	expect("{{.Config.Label \"tier\"}}", "web");
	expect("{{.Config.Label 7}}", "ERR: template: Label: the key must be a string");
	expect("{{.Config.Label \"a\" \"b\"}}", "ERR: template: wrong number of args for Label: want 1 got 2");
	expect("{{.Name \"x\"}}", "ERR: template: can't give an argument to a non-function");
}

/* A failed parse leaves NULL behind, whatever the caller's pointer held: template_free takes it. */
static void test_failed_parse_leaves_null(void)
{
	struct template *t = (struct template *)0x34;
	struct error e = { 0 };

	ok(template_parse("{{.Nope", &t, &e) < 0 && t == NULL, "a failed parse sets its result to NULL");
	template_free(t);
}

int main(void)
{
	test_docker_inspect_examples();
	test_docker_functions();
	test_values();
	test_control_flow();
	test_errors();
	test_table();
	test_print_rows();
	test_strict_rows();
	test_label_method();
	test_failed_parse_leaves_null();
	return tap_done();
}
