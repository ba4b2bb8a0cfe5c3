#!/usr/bin/env python3
"""gen-conf5.py [--check]: write the SETTINGS section of man/man5/umfax.conf.5
and the sample share/umfax/umfax.conf from the setting tables
lib/settings/*.def (the S, R, RO and SECRET lines conf.c compiles in), so
that the page and the sample say exactly what the programs accept.

With --check nothing is written: exit 1 and name each file that is not
what this script would write (make lint runs it through tests/check-manpages).
Run from anywhere; paths are relative to the repository."""
import os
import re
import sys
import textwrap

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER = ['common', 't38recv', 't38live', 'faxtiff', 'umresolve', 'faxmail', 'sipredirect']
TITLES = {'common': 'All programs', 't38recv': 't38recv', 't38live': 't38recv --live',
          'faxtiff': 'faxtiff', 'umresolve': 'umresolve', 'faxmail': 'faxmail',
          'sipredirect': 'sipredirect'}
MACRO = re.compile(r'^\s*(S|R|RO|SECRET)\(', re.M)


def split_args(text):
    """The arguments of one macro call, strings joined as C joins them."""
    parts, cur, instr, i = [], '', False, 0
    while i < len(text):
        c = text[i]
        if c == '\\' and instr:
            cur += text[i:i + 2]
            i += 2
            continue
        if c == '"':
            instr = not instr
        if c == ',' and not instr:
            parts.append(cur.strip())
            cur = ''
        else:
            cur += c
        i += 1
    parts.append(cur.strip())
    return parts


def cstr(x):
    x = x.strip()
    if x == 'NULL':
        return None
    segs = re.findall(r'"((?:[^"\\]|\\.)*)"', x)
    return ''.join(segs).replace('\\"', '"').replace('\\\\', '\\') if segs else x


def parse(path):
    src = re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S)
    out = []
    for m in MACRO.finditer(src):
        depth, j, instr = 1, m.end(), False
        while depth:
            c = src[j]
            if c == '"' and src[j - 1] != '\\':
                instr = not instr
            elif not instr and c == '(':
                depth += 1
            elif not instr and c == ')':
                depth -= 1
            j += 1
        a = split_args(src[m.end():j - 1])
        if m.group(1) == 'SECRET':
            out.append(dict(name=cstr(a[0]), type='string', default=cstr(a[1]), help=cstr(a[2]),
                            scope='S', secret=True))
        else:
            out.append(dict(name=cstr(a[0]), type=a[1].replace('UMFAX_CONF_', '').lower(),
                            default=cstr(a[2]), min=a[3], max=a[4], choices=cstr(a[5]),
                            help=cstr(a[6]), scope=m.group(1), secret=False))
    return out


def tables():
    for o in ORDER:
        items = parse(os.path.join(TOP, 'lib', 'settings', o + '.def'))
        if items:
            yield o, items


def mdoc_settings():
    body = ['.Sh SETTINGS']
    for o, items in tables():
        body += ['.Ss ' + TITLES[o], '.Bl -tag -width Ds']
        for it in items:
            body.append('.It Cm ' + it['name'])
            h = it['help'] or ''
            h = h[0].upper() + h[1:] if h else h
            if not h.endswith('.'):
                h += '.'
            for sent in re.split(r'(?<=[.;]) (?=[A-Za-z(])', h.replace('\\', '\\e')):
                if sent[:1] in ('.', "'"):
                    sent = '\\&' + sent
                body.append(sent)
            if it['type'] == 'int':
                body.append('A number from %s to %s.' % (it['min'], it['max']))
            elif it['type'] == 'bool':
                body.append('Yes or no.')
            elif it['type'] == 'enum':
                body.append('One of ' + ', '.join(it['choices'].split('|')) + '.')
            d = it['default']
            body += ['Default: empty.'] if not d else ['Default:', '.Ql %s .' % d]
            if it['scope'] == 'R':
                body.append('A route may set its own value; see')
                body.append('.Sx ROUTES .')
            elif it['scope'] == 'RO':
                body.append('Only in a route; see')
                body.append('.Sx ROUTES .')
            if it['secret']:
                body.append('This is a secret: it is never printed, and a file that sets it '
                            'must not be readable by others.')
        body.append('.El')
    return '\n'.join(body) + '\n'


def sample():
    out = ['# /etc/umfax/umfax.conf - settings of the umfax programs, see umfax.conf(5).',
           '# Every setting is shown here at its compiled-in default, commented out.',
           '# "umresolve conf -n" prints what you changed.', '']
    routed = []
    for o, items in tables():
        out.append('# ---- ' + TITLES[o])
        for it in items:
            if it['scope'] == 'RO':
                routed.append(it)
                continue
            for line in textwrap.wrap(it['help'] or '', 72):
                out.append('# ' + line)
            d = it['default'] or ''
            if d != d.strip():
                d = '"' + d + '"'
            out.append(('#%s = %s' % (it['name'], d)).rstrip())
            out.append('')
    out += ['# ---- routes (t38recv --live), after every global setting; see ROUTES',
            '# in umfax.conf(5).  The first route whose route_called and',
            '# route_source fit a call takes it; a route sets only what differs.',
            '#[route east-gateways]']
    example = {'route_called': '4420794*', 'route_source': '192.0.2.0/24'}
    for it in routed:
        for line in textwrap.wrap(it['help'] or '', 72):
            out.append('# ' + line)
        out.append('#%s = %s' % (it['name'], example.get(it['name'], '')))
    out += ['# and any setting that says "a route may set its own value" in umfax.conf(5):',
            '#local_ident = "+44 20 7946 0000"', '#t38live_ecm = no',
            '#t38live_allow = 192.0.2.10, 192.0.2.11']
    return '\n'.join(out).rstrip() + '\n'


def main():
    check = sys.argv[1:] == ['--check']
    page = os.path.join(TOP, 'man', 'man5', 'umfax.conf.5')
    conf = os.path.join(TOP, 'share', 'umfax', 'umfax.conf')
    old_page = open(page).read()
    a = old_page.index('.Sh SETTINGS\n')
    b = old_page.index('\n.Sh ', a + 1) + 1
    want = {page: old_page[:a] + mdoc_settings() + old_page[b:], conf: sample()}
    bad = 0
    for path, text in want.items():
        have = open(path).read() if os.path.exists(path) else None
        if have == text:
            continue
        if check:
            print('man: %s is not current with lib/settings/*.def: run python3 man/gen-conf5.py'
                  % os.path.relpath(path, TOP))
            bad = 1
        else:
            open(path, 'w').write(text)
            print('wrote ' + os.path.relpath(path, TOP))
    return bad


if __name__ == '__main__':
    sys.exit(main())
