/* The functions a template may call (json, index, printf, join ...). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/base/template-internal.h"

/* The functions a template may call, with their argument counts. */
static const struct {
	const char *name;
	unsigned min, max;
} funcs[] = {
	{ "json", 1, 1 }, { "index", 1, 16 }, { "len", 1, 1 }, { "printf", 1, 16 }, { "print", 0, 16 },
	{ "println", 0, 16 }, { "upper", 1, 1 }, { "lower", 1, 1 }, { "title", 1, 1 }, { "join", 2, 2 },
	{ "split", 2, 2 }, { "pad", 3, 3 }, { "truncate", 2, 2 }, { "eq", 2, 16 }, { "ne", 2, 2 },
	{ "lt", 2, 2 }, { "le", 2, 2 }, { "gt", 2, 2 }, { "ge", 2, 2 }, { "and", 1, 16 },
	{ "or", 1, 16 }, { "not", 1, 1 },
};

bool tpl_func_known(const char *name)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (!strcmp(funcs[i].name, name))
			return true;
	return false;
}

/* ---- functions ---- */

static double num(json_object *v)
{
	return json_object_is_type(v, json_type_string) ? strtod(json_object_get_string(v), NULL) :
	       json_object_get_double(v);
}

static int compare(json_object *a, json_object *b)
{
	if (json_object_is_type(a, json_type_string) && json_object_is_type(b, json_type_string))
		return strcmp(json_object_get_string(a), json_object_get_string(b));
	if ((json_object_is_type(a, json_type_null)) != (json_object_is_type(b, json_type_null)))
		return 1;
	return num(a) < num(b) ? -1 : num(a) > num(b);
}

/* Pad text to width: on the right with '-', else on the left (zeros for numbers with '0'). */
static void emit_padded(FILE *f, const char *text, int width, bool left, bool zero)
{
	int pad = width - (int)strlen(text);
	bool sign = zero && (*text == '-' || *text == '+');

	if (sign)
		fputc(*text++, f);
	for (int i = 0; !left && i < pad; i++)
		fputc(zero ? '0' : ' ', f);
	fputs(text, f);
	for (int i = 0; left && i < pad; i++)
		fputc(' ', f);
}

/* One verb's text (no padding) into buf. */
static char *verb_text(char verb, json_object *v, int prec, bool plus)
{
	char *s = NULL;

	switch (verb) {
	case 'd':
		if (asprintf(&s, plus ? "%+lld" : "%lld", (long long)num(v)) < 0)
			s = NULL;
		break;
	case 'x':
	case 'X':
		if (json_object_is_type(v, json_type_string)) {
			size_t len = json_object_get_string_len(v);
			const unsigned char *c = (const unsigned char *)json_object_get_string(v);

			s = malloc(2 * len + 1);
			for (size_t i = 0; s && i < len; i++)
				sprintf(s + 2 * i, verb == 'x' ? "%02x" : "%02X", c[i]);
			if (s)
				s[2 * len] = 0;
		} else if (asprintf(&s, verb == 'x' ? "%llx" : "%llX", (long long)num(v)) < 0) {
			s = NULL;
		}
		break;
	case 'f':
		if (asprintf(&s, "%.*f", prec < 0 ? 6 : prec, num(v)) < 0)
			s = NULL;
		break;
	case 'q':	/* a quoted string with escapes, as JSON writes it */
		s = strdup(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE) :
			   "%!q(<nil>)");
		break;
	default:	/* s, v and the rest: the value's text, cut to the precision */
		s = tpl_to_string(v);
		if (s && prec >= 0 && strlen(s) > (size_t)prec)
			s[prec] = 0;
		break;
	}
	return s;
}

/* Go's printf for the verbs people use: %s %v %d %q %x %X %f, with - + 0, width and precision. */
static char *go_printf(const char *fmt, json_object **argv, unsigned argc)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);
	unsigned ai = 0;

	if (!f)
		return NULL;
	for (const char *p = fmt; *p; p++) {
		bool left = false, zero = false, plus = false;
		int width = 0, prec = -1;
		char *text;

		if (*p != '%') {
			fputc(*p, f);
			continue;
		}
		for (p++; *p && strchr("-+0 #", *p); p++) {
			left |= *p == '-';
			zero |= *p == '0';
			plus |= *p == '+';
		}
		for (; *p >= '0' && *p <= '9'; p++)
			width = width < 10000 ? width * 10 + (*p - '0') : width;
		if (*p == '.')
			for (prec = 0, p++; *p >= '0' && *p <= '9'; p++)
				prec = prec < 10000 ? prec * 10 + (*p - '0') : prec;
		if (!*p)
			break;
		if (*p == '%') {
			fputc('%', f);
			continue;
		}
		text = verb_text(*p, ai < argc ? argv[ai++] : NULL, prec, plus);
		emit_padded(f, text ? text : "", width, left, zero && !left && strchr("dxXf", *p));
		free(text);
	}
	fclose(f);
	return s;
}

static json_object *func_json(json_object *v)
{
	return json_object_new_string(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
									JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
}

static char *change_case(json_object *v, int (*fn)(int), bool title)
{
	char *s = tpl_to_string(v);
	bool start = true;

	for (char *c = s; c && *c; c++) {
		if (!title || start)
			*c = fn((unsigned char)*c);
		start = isspace((unsigned char)*c);
	}
	return s;
}

static int func_index(struct render *r, json_object **argv, unsigned argc, json_object **out)
{
	json_object *v = tpl_ref(argv[0]);

	for (unsigned i = 1; i < argc; i++) {
		json_object *next = NULL;

		if (json_object_is_type(v, json_type_array)) {
			int64_t k = json_object_get_int64(argv[i]);

			if (k < 0 || (size_t)k >= json_object_array_length(v)) {
				json_object_put(v);
				return tpl_rerr(r, "index out of range: %lld", (long long)k);
			}
			next = tpl_ref(json_object_array_get_idx(v, k));
		} else if (json_object_is_type(v, json_type_object)) {
			next = tpl_ref(json_object_object_get(v, json_object_get_string(argv[i])));
		} else if (v) {
			json_object_put(v);
			return tpl_rerr(r, "can't index item of type %s", json_type_to_name(json_object_get_type(v)));
		}
		json_object_put(v);
		v = next;
	}
	*out = v;
	return 0;
}

static json_object *func_join(json_object *list, json_object *sep)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++) {
		if (i)
			fputs(json_object_get_string(sep), f);
		tpl_print_value(f, json_object_array_get_idx(list, i));
	}
	fclose(f);
	return tpl_new_string_take(s);
}

static json_object *func_split(json_object *v, json_object *sep)
{
	char *s = tpl_to_string(v), *p = s;
	const char *d = json_object_get_string(sep);
	size_t dl = strlen(d);
	json_object *arr = json_object_new_array();

	while (p && arr) {
		char *hit = dl ? strstr(p, d) : NULL;

		json_object_array_add(arr, json_object_new_string_len(p, hit ? hit - p : (int)strlen(p)));
		if (!hit)
			break;
		p = hit + dl;
	}
	free(s);
	return arr;
}


static json_object *print_all(json_object **argv, unsigned argc, bool ln)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (unsigned i = 0; i < argc; i++) {
		bool str = json_object_is_type(argv[i], json_type_string);

		/* Go's Sprint adds spaces between operands when neither is a string; Sprintln always. */
		if (i && (ln || (!str && !json_object_is_type(argv[i - 1], json_type_string))))
			fputc(' ', f);
		tpl_print_value(f, argv[i]);
	}
	if (ln)
		fputc('\n', f);
	fclose(f);
	return tpl_new_string_take(s);
}

int tpl_call(struct render *r, const char *fn, json_object **argv, unsigned argc,
		json_object **out)
{
	size_t i;
	char *s;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]) && strcmp(funcs[i].name, fn); i++)
		;
	if (i == sizeof(funcs) / sizeof(funcs[0]))
		return tpl_rerr(r, "function \"%s\" not defined", fn);
	if (argc < funcs[i].min || argc > funcs[i].max)
		return tpl_rerr(r, "wrong number of arguments for %s: %u", fn, argc);
	*out = NULL;
	if (!strcmp(fn, "json")) {
		*out = func_json(argv[0]);
	} else if (!strcmp(fn, "index")) {
		return func_index(r, argv, argc, out);
	} else if (!strcmp(fn, "len")) {
		json_type t = json_object_get_type(argv[0]);

		if (t != json_type_array && t != json_type_object && t != json_type_string)
			return tpl_rerr(r, "len of %s", json_type_to_name(t));
		*out = json_object_new_int64(t == json_type_array ? (int64_t)json_object_array_length(argv[0]) :
					     t == json_type_object ? json_object_object_length(argv[0]) :
					     json_object_get_string_len(argv[0]));
	} else if (!strcmp(fn, "printf")) {
		*out = tpl_new_string_take(go_printf(json_object_get_string(argv[0]), argv + 1, argc - 1));
	} else if (!strcmp(fn, "print") || !strcmp(fn, "println")) {
		*out = print_all(argv, argc, fn[5] == 'l');
	} else if (!strcmp(fn, "upper") || !strcmp(fn, "lower") || !strcmp(fn, "title")) {
		*out = tpl_new_string_take(change_case(argv[0], fn[0] == 'l' ? tolower : toupper, fn[0] == 't'));
	} else if (!strcmp(fn, "join")) {
		*out = func_join(argv[0], argv[1]);
	} else if (!strcmp(fn, "split")) {
		*out = func_split(argv[0], argv[1]);
	} else if (!strcmp(fn, "pad")) {	/* docker's: spaces before and after */
		char *v = tpl_to_string(argv[0]);

		s = NULL;
		if (v && asprintf(&s, "%*s%s%*s", (int)num(argv[1]), "", v, (int)num(argv[2]), "") < 0)
			s = NULL;
		free(v);
		*out = tpl_new_string_take(s);
	} else if (!strcmp(fn, "truncate")) {
		s = tpl_to_string(argv[0]);
		if (s && num(argv[1]) >= 0 && strlen(s) > (size_t)num(argv[1]))
			s[(size_t)num(argv[1])] = 0;
		*out = tpl_new_string_take(s);
	} else if (!strcmp(fn, "eq")) {
		bool any = false;

		for (unsigned k = 1; k < argc; k++)
			any |= compare(argv[0], argv[k]) == 0;
		*out = json_object_new_boolean(any);
	} else if (!strcmp(fn, "ne") || !strcmp(fn, "lt") || !strcmp(fn, "le") ||
		   !strcmp(fn, "gt") || !strcmp(fn, "ge")) {
		int c = compare(argv[0], argv[1]);

		*out = json_object_new_boolean(fn[0] == 'n' ? c != 0 : fn[0] == 'l' ?
					       (fn[1] == 't' ? c < 0 : c <= 0) : (fn[1] == 't' ? c > 0 : c >= 0));
	} else if (!strcmp(fn, "and") || !strcmp(fn, "or")) {
		unsigned k = 0;

		/* Go: the first falsy (and) or truthy (or) argument, else the last. */
		while (k + 1 < argc && tpl_truth(argv[k]) == (fn[0] == 'a'))
			k++;
		*out = tpl_ref(argv[k]);
	} else {
		*out = json_object_new_boolean(!tpl_truth(argv[0]));
	}
	return 0;
}
