/*
 * test_template.c — the chat-template engine (src/text/template*.c), one
 * feature at a time: every case of the first table was rendered by jinja2
 * 3.1 with transformers' settings (trim_blocks, lstrip_blocks,
 * loopcontrols, its tojson), which gave the expected text; the error table
 * lists what must fail and the words the message must hold (unknown
 * filters and tags, unclosed tags, raise_exception, undefined arithmetic,
 * the step, output, depth and nesting limits, malformed input). Then the
 * built-in templates, the deliberate differences from jinja2, rendering one
 * compiled template from several threads at once, and random mutations of
 * real templates (an error or a result, never a crash).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "template.h"

static const struct chat_msg example[] = {
    {"system", "You are a helpful assistant."},
    {"user", "Hello!"},
    {"assistant", "Hi there! How can I help you today?"},
    {"user", "Tell me a joke."},
};

static const struct template_vars vars = {
    .messages = example, .n_messages = 4, .add_generation_prompt = true,
    .bos_token = "<s>", .eos_token = "</s>",
};

/* Compile and render src; the output (malloc'd) or NULL with err set. */
static char *render(const char *src, const struct template_vars *v, struct ember_err *err) {
    struct template *t = NULL;
    char *out = NULL;
    size_t len = 0;
    if (template_compile(src, strlen(src), &t, err) == EMBER_OK &&
        template_render(t, v, &out, &len, err) == EMBER_OK && strlen(out) != len) {
        snprintf(err->msg, sizeof err->msg, "length %zu but strlen %zu", len, strlen(out));
    }
    template_free(t);
    return out;
}

/* src on one line (newlines shown as \n), for check messages; at most 70 bytes. */
static const char *oneline(const char *src) {
    static char buf[96];
    size_t o = 0;
    for (; *src && o < 70; src++) {
        if (*src == '\n' || *src == '\r') {
            buf[o++] = '\\';
            buf[o++] = *src == '\n' ? 'n' : 'r';
        } else {
            buf[o++] = *src;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------ features against jinja2 */

static const struct {
    const char *src, *want;
} same_as_jinja2[] = {
    {"a {{- ' b' }}",
     "a b"},
    {"{% if true %}\n  x\n{% endif %}\n",
     "  x\n"},
    {"  {% if true %}y{% endif %}",
     "y"},
    {"  {%+ if true %}y{% endif %}",
     "  y"},
    {"a\n  {{ 'v' }}",
     "a\n  v"},
    {"{# c #}\nx",
     "x"},
    {"a  {#- c -#}  b",
     "ab"},
    {"x\r\ny\n\n",
     "x\ny\n"},
    {"{% raw %}{{ x }}{% endraw %}",
     "{{ x }}"},
    {"t {%- if true -%} \n u \n {%- endif %} v",
     "tu v"},
    {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ - 2 ** 2 }}",
     "7 9 3 -4 1 2 3.5 1024 4"},
    {"{{ 'a' ~ 1 ~ none ~ true }} {{ 'x' * 3 }}{{ [1, 2] + [3] }} {{ 3 * 'ab' }}",
     "a1NoneTrue xxx[1, 2, 3] ababab"},
    {"{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 3.0 }} {{ -0.0 }} {{ 1/3 }} {{ 123456789012345.6 }} {{ 1e16 }} {{ 0.0001 }}",
     "0.30000000000000004 1e+20 1.5e-07 3.0 -0.0 0.3333333333333333 123456789012345.6 1e+16 0.0001"},
    {"{{ \"it's\" }} {{ ['it\\'s', \"a\\\"b\", 'é\\n', '\\x01'] }}",
     "it's [\"it's\", 'a\"b', 'é\\n', '\\x01']"},
    {"{{ {'a': 1, 'b': [true, none, 2.5]} }} {{ (1,) }} {{ (1, 2) }} {{ () }}",
     "{'a': 1, 'b': [True, None, 2.5]} (1,) (1, 2) ()"},
    {"{{ 'abc'[1] }} {{ 'abc'[-1] }} {{ 'héllo'[1:3] }} {{ [1,2,3,4][::2] }} {{ [1,2,3][::-1] }} {{ 'abc'[5:] }}|{{ 'abcdef'[-2:] }} {{ [1,2,3][1:] }} {{ 'abc'[:-1] }} {{ 'héllo'[::-2] }}",
     "b c él [1, 3] [3, 2, 1] |ef [2, 3] ab olh"},
    {"{{ messages[0].role }} {{ messages[0]['content'] }} {{ messages[-1].role }} {{ messages.0.role }}",
     "system You are a helpful assistant. user system"},
    {"{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 3] }} {{ 'k' in {'k': 1} }} {{ 'b' < 'ab' }}",
     "True False True True True False"},
    {"{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ [1, [2]] == [1, [2]] }} {{ messages[1] == {'role': 'user', 'content': 'Hello!'} }}",
     "True True True True True"},
    {"{{ 'y' if 0 else 'n' }} {{ 'y' if 1 }}|{{ 'y' if 0 }}| {{ none or 'd' }} {{ 0 and 1 }} {{ not [] }} {{ not 'a' == 'b' }}",
     "n y|| d 0 True True"},
    {"{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
     "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;"},
    {"{% for x in [] %}a{% else %}empty{% endfor %}",
     "empty"},
    {"{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for k in {'x': 1} %}{{ k }}{% endfor %}",
     "a=1;b=2;x"},
    {"{% for x in range(10) if x is odd %}{{ x }}{% if loop.last %}!{{ loop.length }}{% endif %}{% endfor %}",
     "13579!5"},
    {"{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     "13"},
    {"{% for x in [1,2] %}{{ loop.previtem }}-{{ loop.nextitem }},{{ loop.cycle('a','b') }};{% endfor %}",
     "-2,a;1-,b;"},
    {"{% for a in [1] %}{% for b in [1] %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}{{ loop.depth }}{% endfor %}",
     "101"},
    {"{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}",
     "12121"},
    {"{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s ~ m.role[0] %}{% endfor %}{{ ns.n }} {{ ns.s }}",
     "4 suau"},
    {"{% set a, b = 1, 2 %}{{ b }}{{ a }}{% set (c, d) = 'xy' %}{{ d }}{{ c }}",
     "21yx"},
    {"{% set x %}  A{{ 1 }} {% endset %}[{{ x }}]{% set y | upper | trim %} ab {% endset %}[{{ y }}]",
     "[  A1 ][AB]"},
    {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bo') }} {{ greet('Al', punct='?') }} {{ greet(name='Cy') }}",
     "Hi Bo! Hi Al? Hi Cy!"},
    {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}",
     "321"},
    {"{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}",
     "2"},
    {"{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}in{% endcall %}",
     "<b>in</b>"},
    {"{% macro v() %}{{ varargs|length }}{% endmacro %}{{ v(1, 2) }}",
     "2"},
    {"{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}|",
     "3|"},
    {"{% filter upper %}ab{{ 'c' }}{% endfilter %}",
     "ABC"},
    {"{% if 0 %}a{% elif none %}b{% elif 1 %}c{% else %}d{% endif %}{% if 0 %}x{% else %}y{% endif %}",
     "cy"},
    {"{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'ab'|upper }}{{ 'AB'|lower }}|{{ 'hello wORLD-x (y'|title }}|{{ 'hELLO'|capitalize }}|{{ 'éa'|upper }}{{ 'ÉCOLE'|lower }}",
     "a b|a|ABab|Hello World-X (Y|Hello|ÉAécole"},
    {"{{ [1, 2, 3]|length }} {{ 'héllo'|length }} {{ {'a': 1}|count }} {{ undefined_var|length }}",
     "3 5 1 0"},
    {"{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ [{'n': 2}, {'n': 1}]|sort(attribute='n')|map(attribute='n')|list }} {{ ['b', 'A']|sort(case_sensitive=true) }}",
     "[1, 2, 3] ['A', 'b', 'c'] [3, 2, 1] [1, 2] ['A', 'b']"},
    {"{{ [1, 2, 2, 'a', 'A']|unique|list }} {{ ['a', 'A']|unique(case_sensitive=true)|list }}",
     "[1, 2, 'a'] ['a', 'A']"},
    {"{{ ['a', 'b']|join(', ') }} {{ [1, 2]|join }} {{ messages|map(attribute='role')|join('/') }} {{ messages|join(',', attribute='role') }}",
     "a, b 12 system/user/assistant/user system,user,assistant,user"},
    {"{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }} {{ messages|selectattr('role')|list|length }}",
     "2 ['system', 'assistant'] 4"},
    {"{{ [0, 1, 2]|select|list }} {{ [0, 1, 2]|reject('odd')|list }} {{ ['a', 'b']|map('upper')|list }} {{ [{'a': 1}, {}]|map(attribute='a', default=0)|list }}",
     "[1, 2] [0, 2] ['A', 'B'] [1, 0]"},
    {"{{ 'a-b'|replace('-', '+') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'ab'|replace('', '.') }}",
     "a+b bba .a.b."},
    {"{{ [1, 2]|first }}{{ [1, 2]|last }}{{ 'xyz'|first }}{{ [1, 2, 3]|reverse|list }}{{ 'abc'|reverse }}{{ [1, 2]|list }}{{ 'ab'|list }}",
     "12x[3, 2, 1]cba[1, 2]['a', 'b']"},
    {"{{ x|default('d') }} {{ ''|default('d') }}|{{ ''|d('d', true) }} {{ none|default('d') }} {{ x|default }}|",
     "d |d None |"},
    {"{{ {'a': [1, 2.5, none, true], 'b': 'é\"\\n\\t<>&', 'c': {}}|tojson }} {{ 'x'|tojson }} {{ 1.0|tojson }} {{ [1, (2, 3)]|tojson }}",
     "{\"a\": [1, 2.5, null, true], \"b\": \"é\\\"\\n\\t<>&\", \"c\": {}} \"x\" 1.0 [1, [2, 3]]"},
    {"{{ {'a': [1, {'b': []}], 'c': {}}|tojson(indent=2) }}",
     "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}"},
    {"{{ {'b': 1, 'a': [2]}|tojson(sort_keys=true, separators=(',', ':')) }} {{ 'é🦙'|tojson(ensure_ascii=true) }} {{ {1: 2, none: 3, true: 4}|tojson }}",
     "{\"a\":[2],\"b\":1} \"\\u00e9\\ud83e\\udd99\" {\"1\": 4, \"null\": 3}"},
    {"{{ '42'|int + 1 }} {{ 'x'|int }} {{ '3.7'|int }} {{ 3.7|int }} {{ '2.5'|float }} {{ 2|float }} {{ -2.5|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 3.14159|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 3|round }} {{ 'x'|int(7) }}",
     "43 0 3 3 2.5 2.0 2.5 2.0 4.0 3.14 3.0 3 7"},
    {"{{ {'b': 1, 'a': 2}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }} {{ {'b': 1, 'a': 2}|items|list }}",
     "[('a', 2), ('b', 1)] [('a', 2), ('b', 1)] [('b', 1), ('a', 2)]"},
    {"{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}",
     "a\n  b\n\n  c|  a\n  b|a\n> \n> b"},
    {"{{ [1, 5, 3]|max }} {{ [1, 5, 3]|min }} {{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum }} {{ ['b', 'A']|max }}",
     "5 1 6 3.5 b"},
    {"{{ 1|string ~ 2 }} {{ [1]|string }} {{ '<a href=\"x\">&\\''|e }} {{ '<a>'|safe }} {{ '%s=%d%%'|format('a', 3) }} {{ 'a b  c'|wordcount }}",
     "12 [1] &lt;a href=&#34;x&#34;&gt;&amp;&#39; <a> a=3% 3"},
    {"{{ x is defined }} {{ messages is defined }} {{ x is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }}",
     "False True True True True True True True True False True"},
    {"{{ {} is mapping }} {{ [] is iterable }} {{ 'a' is sequence }} {{ 2 is even }} {{ 3 is odd }} {{ 6 is divisibleby 3 }} {{ 1 is equalto 1 }} {{ 1 is eq 2 }} {{ true is true }} {{ 0 is false }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ 2 is in [1, 2] }} {{ x is iterable }} {{ 3 is gt 2 }} {{ 'upper' is filter }}",
     "True True True True True True True False True False True True True True True True"},
    {"{{ 1 is not none }} {{ x is not defined }} {{ not x is defined }}",
     "True True True"},
    {"{{ ' a '.strip() }}|{{ 'xa'.lstrip('x') }}|{{ 'ax\\n'.rstrip() }}|{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.split(none, 1) }}",
     "a|a|ax|['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a', 'b c']"},
    {"{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aXa'.replace('a', 'b') }} {{ 'ab'.upper() }} {{ 'hello wORLD it\\'s'.title() }} {{ 'x'.join(['a', 'b']) }} {{ 'aB'.lower() }} {{ 'hi there'.capitalize() }}",
     "True True bXb AB Hello World It'S axb ab Hi there"},
    {"{{ '{} + {} = {sum}'.format(1, 2, sum=3) }} {{ '{0}{0}{1!r}'.format('z', 'q') }} {{ '{{}}'.format() }}",
     "1 + 2 = 3 zz'q' {}"},
    {"{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 2) }} {{ {'a': 1}.keys()|list }} {{ {'a': 1}.values()|list }} {{ {'items': 5}['items'] }}",
     "1 None 2 ['a'] [1] 5"},
    {"{{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abc'.count('b') }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ '12'.isdigit() }} {{ 'a1'.isalpha() }} {{ 'abc'.removeprefix('a') }}",
     "2 5 1 ['l1', 'l2', 'l3'] True False bc"},
    {"{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(3, 0, -1)|list }} {{ dict(a=1)['a'] }} {{ namespace(a=1).a }}",
     "[0, 1, 2] [1, 3, 5] [3, 2, 1] 1 1"},
    {"{{ messages[0].nope }}|{{ messages[9] }}|{{ messages[0]['nope'] }}|",
     "|||"},
    {"{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }} {{ tools }} {{ documents }}",
     "<s></s>True None None"},
    {"{{ 'a\\tb\\x41\\u00e9\\101\\q' }} {{ 'a' 'b' \"c\" }} {{ 0x1F }} {{ 1_000 }} {{ 0b101 }} {{ 0o17 }} {{ 1_0.5 }}",
     "a\tbAéA\\q abc 31 1000 5 15 10.5"},
    {"{{ 'é'|tojson }} {{ messages[1:2]|tojson }}",
     "\"é\" [{\"role\": \"user\", \"content\": \"Hello!\"}]"},
    {"{%- for m in messages -%}\n  {{- m.role }}\n{% endfor %}",
     "system\nuser\nassistant\nuser\n"},
    {"{% for m in messages %}\n    {% if m.role == 'user' %}\n        U\n    {% endif %}\n{% endfor %}",
     "        U\n        U\n"},
    {"{% set ns = namespace() %}{% set ns.self = ns %}{{ ns.self.self is defined }}",
     "True"},
    {"{{ 'Hello %s'|format(messages|length) }} {{ messages|length is even }}",
     "Hello 4 True"},
    {"{{ '{\\n'|indent(4, first=true) }}|{{ 'a'|indent }}|{{ ''|indent(2, true) }}|",
     "    {\n|a|  |"},
    {"{{ 'yes' if [0]|select else 'no' }} {{ ([]|select) is sequence }} {% set g = [1, 2, 3]|map('string') %}{{ g|first }}{{ g|list }}{{ g|list }} {{ 2 in [1, 2, 3]|select }}",
     "yes False 1['2', '3'][] True"},
    {"{{ none|selectattr('a')|list }} {{ none|map(attribute='a')|list }} {{ [3, 1]|reverse|list }} {{ {'a': 1}|items|list }}",
     "[] [] [1, 3] [('a', 1)]"},
    {"{{ 'a'|safe + '<b>' }} {{ '<b>' + 'a'|safe }} {{ '<'|e + '<'|e }} {{ '<' ~ '>'|safe }} {{ ('<'|e)|e }}",
     "a&lt;b&gt; &lt;b&gt;a &lt;&lt; <> &lt;"},
    {"{% if false %}{{ x|nofilter }}{% endif %}ok {{ 1 if true else x|nofilter }} {{ (x is nosuchtest) if false }}|",
     "ok 1 |"},
};

static void test_features(void) {
    for (size_t i = 0; i < sizeof same_as_jinja2 / sizeof same_as_jinja2[0]; i++) {
        struct ember_err err = {0};
        char *got = render(same_as_jinja2[i].src, &vars, &err);
        bool ok = got && !strcmp(got, same_as_jinja2[i].want);
        CHECK(ok, "as jinja2: %s", oneline(same_as_jinja2[i].src));
        if (!ok) printf("#   want [%s]\n#   got  [%s] %s\n", same_as_jinja2[i].want, got ? got : "(error)", err.msg);
        free(got);
    }
}

/* ------------------------------------------------------------ errors */

static char *repeat(const char *a, int n, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la * (size_t)n * 2 + lb + 16);
    char *o = s;
    for (int k = 0; k < n; k++) o += sprintf(o, "%s", a);
    o += sprintf(o, "%s", b);
    for (int k = 0; k < n; k++) *o++ = a[strlen(a) - 1] == '(' ? ')' : a[strlen(a) - 1] == '[' ? ']' : ' ';
    *o = '\0';
    return s;
}

static void test_errors(void) {
    static const struct {
        const char *src, *words;
    } cases[] = {
        {"{{ x | nofilter }}", "no filter named 'nofilter'"},
        {"{% if true %}{{ x|nofilter }}{% endif %}", "line 1: no filter named 'nofilter'"},
        {"{% if x %}\n{% for i in y %}{{ a|nofilter }}{% endfor %}{% endif %}", "line 2: no filter named"},
        {"{{ [1]|map('string')|tojson }}", "Object of type generator is not JSON serializable"},
        {"{{ [1]|select|length }}", "object of type 'generator' has no len()"},
        {"{{ [1]|select|last }}", "'generator' object is not reversible"},
        {"{{ [1, 2]|batch(2) }}", "no filter named 'batch'"},
        {"{{ x is notatest }}", "no test named 'notatest'"},
        {"{% if x %}", "unexpected end of template, expected 'elif'"},
        {"{% for x in y %}{% endif %}", "unknown or unsupported tag 'endif'"},
        {"{{ x ", "unclosed '{{'"},
        {"{% if x ", "unclosed '{%'"},
        {"{# no end", "unclosed comment"},
        {"{{ 'abc }}", "unterminated string"},
        {"{{ a b }}", "expected '}}'"},
        {"{{ }}", "expected an expression"},
        {"{{ (1 }}", "unbalanced bracket"},
        {"{% endfor %}", "unknown or unsupported tag 'endfor'"},
        {"{% include 'x.jinja' %}", "unknown or unsupported tag 'include'"},
        {"{% extends 'x' %}", "unknown or unsupported tag 'extends'"},
        {"{% break %}", "'break' outside a for loop"},
        {"{{ f(*args) }}", "not supported"},
        {"{{ '\\x4' }}", "malformed escape"},
        {"{{ 99999999999999999999 }}", "integer literal too large"},
        {"line one\n{{ raise_exception('boom: ' ~ messages|length) }}", "line 2: boom: 4"},
        {"{{ x + 1 }}", "'x' is undefined"},
        {"{{ -x }}", "'x' is undefined"},
        {"{{ x < 1 }}", "'x' is undefined"},
        {"{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'"},
        {"{{ 1 / 0 }}", "division by zero"},
        {"{{ 1 // 0 }}", "division or modulo by zero"},
        {"{{ 9223372036854775807 + 1 }}", "integer overflow"},
        {"{{ 2 ** 64 }}", "integer overflow"},
        {"{{ [1].append(2) }}", "access to attribute 'append' of 'list' object is unsafe"},
        {"{{ {'a': 1}.pop('a') }}", "unsafe"},
        {"{{ none.x() }}", "is undefined"},
        {"{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str'"},
        {"{% for x in 5 %}{% endfor %}", "'int' object is not iterable"},
        {"{% for x in none %}{% endfor %}", "'NoneType' object is not iterable"},
        {"{{ 1 in 5 }}", "argument of type 'int' is not iterable"},
        {"{{ 1 in 'abc' }}", "requires string as left operand"},
        {"{% set a, b = [1] %}", "not enough values to unpack"},
        {"{% set a, b = [1, 2, 3] %}", "too many values to unpack"},
        {"{% set x = 1 %}{% set x.a = 2 %}", "cannot assign attribute on non-namespace object"},
        {"{{ 5|length }}", "object of type 'int' has no len()"},
        {"{{ {}|tojson }}{{ x|tojson }}", "Object of type Undefined is not JSON serializable"},
        {"{{ {[1]: 2} }}", "unhashable type: 'list'"},
        {"{{ 'a'[::0] }}", "slice step cannot be zero"},
        {"{{ 'x' * 100000000 }}", "string longer than"},
        {"{{ range(1000000)|list }}", "Range too big"},
        {"{{ '{} {}'.format(1) }}", "no argument for field"},
        {"{{ '{:>5}'.format(1) }}", "format specs are not supported"},
        {"{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "render stopped after"},
        {"{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "output longer than"},
        {"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "nested"},
        {"{% set ns = namespace(l=[]) %}{% for i in range(200) %}{% set ns.l = [ns.l] %}{% endfor %}",
         "nested deeper than"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ember_err err = {0};
        char *got = render(cases[i].src, &vars, &err);
        bool ok = !got && strstr(err.msg, cases[i].words) && err.status == EMBER_EINVAL;
        CHECK(ok, "fails: %s -> %.90s", oneline(cases[i].src), err.msg);
        if (!ok) printf("#   want [%s] got [%s] status %d\n", cases[i].words, got ? got : err.msg, err.status);
        free(got);
    }
    /* nesting that would exhaust the C stack is refused while parsing */
    const char *deep[] = {"{{ ", "{{ [", "{% if ", "{{ not "};
    const char *mid[] = {"(", "[", "(", "not "};
    for (int k = 0; k < 4; k++) {
        char *inner = repeat(mid[k], 5000, "1");
        char *src = malloc(strlen(inner) + 32);
        sprintf(src, "%s%s %s", deep[k], inner, k == 2 ? "%}{% endif %}" : k == 1 ? "] }}" : "}}");
        struct ember_err err = {0};
        char *got = render(src, &vars, &err);
        CHECK(!got && (strstr(err.msg, "nested") || strstr(err.msg, "deeply")),
              "5000 levels of %s are refused: %.80s", mid[k], err.msg);
        free(got);
        free(src);
        free(inner);
    }
}

/* ------------------------------------------------- built-ins, differences */

static void test_builtins(void) {
    int n = 0;
    for (; template_builtin_name(n); n++) {
        const char *name = template_builtin_name(n);
        struct ember_err err = {0};
        char *got = render(template_builtin(name), &vars, &err);
        bool has_all = got && strstr(got, "Hello!") && strstr(got, "Tell me a joke.") &&
                       strstr(got, "You are a helpful assistant.");
        CHECK(has_all, "built-in %s renders every message: %s", name, got ? "" : err.msg);
        free(got);
    }
    CHECK(n >= 6 && template_builtin("chatml") && template_builtin("llama3") && template_builtin("gemma") &&
              template_builtin("phi3") && template_builtin("mistral") && template_builtin("zephyr") &&
              !template_builtin("nope"),
          "%d built-ins, the six required among them, unknown names are NULL", n);
    struct ember_err err = {0};
    char *got = render(template_builtin("chatml"), &vars, &err);
    CHECK(got && !strcmp(got, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                              "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"
                              "Hi there! How can I help you today?<|im_end|>\n<|im_start|>user\n"
                              "Tell me a joke.<|im_end|>\n<|im_start|>assistant\n"),
          "chatml text");
    free(got);
}

static void test_differences(void) {
    struct ember_err err = {0};
    /* jinja2's default Undefined raises here; ember chains undefined */
    char *got = render("{{ nope.deeper.still }}|{{ nope['x'].y is defined }}", &vars, &err);
    CHECK(got && !strcmp(got, "|False"), "attributes of undefined are undefined: %s", got ? got : err.msg);
    free(got);
    got = render("{{ strftime_now is defined }}", &vars, &err);
    CHECK(got && !strcmp(got, "False"), "strftime_now is undefined without a time");
    free(got);
    struct tm tm = {.tm_year = 125, .tm_mon = 2, .tm_mday = 14};
    struct template_vars v = vars;
    v.now = &tm;
    got = render("{{ strftime_now('%d %b %Y') }}", &v, &err);
    CHECK(got && !strcmp(got, "14 Mar 2025"), "strftime_now formats the given time: %s", got ? got : err.msg);
    free(got);
    v.messages = NULL;
    v.n_messages = 0;
    v.bos_token = v.eos_token = NULL;
    got = render("[{{ messages|length }}{{ bos_token }}{{ eos_token }}]", &v, &err);
    CHECK(got && !strcmp(got, "[0]"), "no messages and NULL tokens render as empty");
    free(got);
    static const struct chat_msg nulls[] = {{"user", NULL}};
    v.messages = nulls;
    v.n_messages = 1;
    got = render("{{ messages[0].content is none }}", &v, &err);
    CHECK(got && !strcmp(got, "True"), "a NULL content is none");
    free(got);
}

/* ------------------------------------------------------------- threads */

struct job {
    const struct template *t;
    const char *want;
    int bad;
};

static void *render_many(void *arg) {
    struct job *j = arg;
    for (int k = 0; k < 200; k++) {
        struct ember_err err = {0};
        char *out = NULL;
        size_t len;
        if (template_render(j->t, &vars, &out, &len, &err) || strcmp(out, j->want)) j->bad++;
        free(out);
    }
    return NULL;
}

static void test_threads(void) {
    const char *src = "{% set ns = namespace(s='') %}{% for m in messages %}{% set ns.s = ns.s + m.role[:1] %}"
                      "{{ m.content|upper }}{% endfor %}{{ ns.s }}{{ 'lit' }}";
    struct template *t = NULL;
    struct ember_err err = {0};
    char *want = NULL;
    size_t len;
    if (template_compile(src, strlen(src), &t, &err) || template_render(t, &vars, &want, &len, &err)) {
        CHECK(0, "thread template: %s", err.msg);
        return;
    }
    struct job jobs[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        jobs[k] = (struct job){t, want, 0};
        pthread_create(&th[k], NULL, render_many, &jobs[k]);
    }
    int bad = 0;
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        bad += jobs[k].bad;
    }
    CHECK(bad == 0, "one compiled template rendered 800 times from 4 threads at once (%d wrong)", bad);
    free(want);
    template_free(t);
}

/* ------------------------------------------------------------- mutations */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random byte edits of a real template: each must render or fail cleanly
 * (the sanitizer build checks "cleanly"). */
static void test_mutations(void) {
    int rendered = 0, failed = 0, n_builtins = 0;
    while (template_builtin_name(n_builtins)) n_builtins++;
    if (!n_builtins) return;
    static const char alphabet[] = "{}%#-+()[]'\"|.,~=<> \nxif";
    for (int k = 0; k < 3000; k++) {
        const char *base = template_builtin(template_builtin_name(k % n_builtins));
        size_t n = strlen(base);
        char *buf = malloc(n + 1);
        memcpy(buf, base, n + 1);
        for (int e = 0, edits = 1 + (int)(next() % 4); e < edits; e++) {
            size_t at = next() % n;
            buf[at] = alphabet[next() % (sizeof alphabet - 1)];
        }
        struct ember_err err = {0};
        char *got = render(buf, &vars, &err);
        if (got) rendered++;
        else failed += err.msg[0] != 0;
        free(got);
        free(buf);
    }
    CHECK(rendered + failed == 3000, "3000 mutated built-in templates: %d rendered, %d failed with a message",
          rendered, failed);
}

int main(void) {
    test_features();
    test_errors();
    test_builtins();
    test_differences();
    test_threads();
    test_mutations();
    return CHECK_DONE();
}
