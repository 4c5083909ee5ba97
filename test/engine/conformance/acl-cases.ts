// ACL users with the Valkey 9.1 database selector (issue 12): run on the engine (cluster node and
// standalone) and on an external Valkey 9.1, never on redis-server 7.0 (no db= rules there).
// ACL is per node: every case creates its users on the node it talks to and deletes them after.
// Keys carry the {b} hash tag (slot 3300) so a cluster node serves them all.
import {ANY, use, type Case, type Expected} from './types.js'

const NOPERM_DB = '-NOPERM No permissions to access database'
const NOPERM_KEY = '-NOPERM No permissions to access a key'
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.'
const SECRET_HASH = '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b' // sha256("secret")
const P1_HASH = 'f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a' // sha256("p1")
const P2_HASH = '3946ca64ff78d93ca61090a437cbb6b3d2ca0d488f5f9ccf3059608368b27693' // sha256("p2")
const PW_HASH = '30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4' // sha256("pw")

function getuser(fields: {flags: string[]; passwords?: string[]; commands: string; keys?: string; channels?: string; databases: string}): Expected {
  return [
    '$flags', fields.flags.map((f) => '$' + f),
    '$passwords', (fields.passwords ?? []).map((p) => '$' + p),
    '$commands', '$' + fields.commands,
    '$keys', '$' + (fields.keys ?? ''),
    '$channels', '$' + (fields.channels ?? ''),
    '$databases', '$' + fields.databases,
    '$selectors', [],
  ]
}

/** One ACL LOG entry (RESP2): the fields that do not depend on time or the connection. */
function logEntry(count: number, reason: string, context: string, object: string, username: string, cmd: string): Expected {
  return [
    '$count', `:${count}`,
    '$reason', '$' + reason,
    '$context', '$' + context,
    '$object', '$' + object,
    '$username', '$' + username,
    '$age-seconds', ANY,
    '$client-info', new RegExp(`^\\$id=\\d+ .* cmd=${cmd.replace('|', '\\|')} user=\\S+ `),
    '$entry-id', ANY,
    '$timestamp-created', ANY,
    '$timestamp-last-updated', ANY,
  ]
}

/** ACL LIST with the default user last (its line holds the target's password hash, if any). */
function aclList(...lines: string[]): Expected {
  return [...lines.map((l) => '$' + l), /^\$user default on .*~\* &\* alldbs \+@all$/]
}

export const aclCases: Case[] = [
  {
    name: 'ACL: a leased user reads and writes its database and gets NOPERM on SELECT of any other',
    cleanup: [['ACL', 'DELUSER', 'lease-42']],
    steps: [
      [['ACL', 'SETUSER', 'lease-42', 'on', '>secret', '~*', '+@all', '-@admin', 'db=3'], '+OK'],
      use('lease'),
      [['AUTH', 'lease-42', 'wrong'], WRONGPASS],
      [['AUTH', 'lease-42', 'secret'], '+OK'],
      [['ACL', 'WHOAMI'], '$lease-42'],
      // A new connection starts in db 0, which this user may not use.
      [['SET', '{b}k', 'v'], NOPERM_DB],
      [['GET', '{b}k'], NOPERM_DB],
      [['DBSIZE'], NOPERM_DB],
      [['SCAN', '0'], NOPERM_DB],
      [['PING'], '+PONG'],
      [['SELECT', '3'], '+OK'],
      [['SET', '{b}k', 'v3'], '+OK'],
      [['GET', '{b}k'], '$v3'],
      [['DBSIZE'], ':1'],
      [['SELECT', '0'], NOPERM_DB],
      [['SELECT', '4'], NOPERM_DB],
      [['SELECT', '99'], '-ERR DB index is out of range'],
      [['SELECT', 'x'], '-ERR value is not an integer or out of range'],
      [['MOVE', '{b}k', '5'], NOPERM_DB],
      [['MOVE', '{b}k', '3'], '-ERR source and destination objects are the same'],
      [['COPY', '{b}k', '{b}k2', 'DB', '5'], NOPERM_DB],
      [['COPY', '{b}k', '{b}k2', 'DB', '3'], ':1'],
      [['SWAPDB', '3', '4'], NOPERM_DB],
      [['SWAPDB', '0', '3'], NOPERM_DB],
      [['FLUSHALL'], NOPERM_DB],
      [['CONFIG', 'GET', 'maxmemory'], "-NOPERM User lease-42 has no permissions to run the 'config|get' command"],
      [['ACL', 'LIST'], "-NOPERM User lease-42 has no permissions to run the 'acl|list' command"],
      [['CLIENT', 'INFO'], /^\$id=\d+ .* db=3 .* user=lease-42 /],
      [['GET', '{b}k2'], '$v3'],
      use('default'),
      [['SELECT', '3'], '+OK'],
      [['GET', '{b}k'], '$v3'],
      [['SELECT', '5'], '+OK'],
      [['EXISTS', '{b}k'], ':0'],
      [['ACL', 'DELUSER', 'lease-42'], ':1'],
    ],
  },
  {
    name: 'ACL SETUSER database selector: db=, alldbs, resetdbs and their errors; GETUSER and LIST',
    cleanup: [['ACL', 'DELUSER', 'acl-u1']],
    steps: [
      [['ACL', 'SETUSER', 'acl-u1'], '+OK'],
      [['ACL', 'GETUSER', 'acl-u1'], getuser({flags: ['off', 'sanitize-payload'], commands: '-@all', databases: 'alldbs'})],
      [['ACL', 'LIST'], aclList('user acl-u1 off sanitize-payload resetchannels alldbs -@all')],
      [['ACL', 'SETUSER', 'acl-u1', 'db=abc'], "-ERR Error in ACL SETUSER modifier 'db=abc': Syntax error"],
      [['ACL', 'SETUSER', 'acl-u1', 'db=-1'], "-ERR Error in ACL SETUSER modifier 'db=-1': The provided database ID is out of range"],
      [['ACL', 'SETUSER', 'acl-u1', 'db=2147483648'], "-ERR Error in ACL SETUSER modifier 'db=2147483648': The provided database ID is out of range"],
      [['ACL', 'SETUSER', 'acl-u1', 'db='], "-ERR Error in ACL SETUSER modifier 'db=': Syntax error"],
      [['ACL', 'SETUSER', 'acl-u1', 'db=1,,2'], "-ERR Error in ACL SETUSER modifier 'db=1,,2': Syntax error"],
      [['ACL', 'SETUSER', 'acl-u1', 'db=3,x'], "-ERR Error in ACL SETUSER modifier 'db=3,x': Syntax error"],
      // A failed SETUSER changes nothing, even rules before the bad one.
      [['ACL', 'SETUSER', 'acl-u1', 'on', 'db=x'], "-ERR Error in ACL SETUSER modifier 'db=x': Syntax error"],
      [['ACL', 'SETUSER', 'acl-u1', 'db=1,2,2,0'], '+OK'],
      [['ACL', 'GETUSER', 'acl-u1'], getuser({flags: ['off', 'sanitize-payload'], commands: '-@all', databases: 'db=0,1,2'})],
      [['ACL', 'SETUSER', 'acl-u1', 'db=6', 'DB=2'], '+OK'],
      [['ACL', 'LIST'], aclList('user acl-u1 off sanitize-payload resetchannels db=2 -@all')],
      // Ids beyond the configured databases are accepted (only negative or > 2^31-1 are refused).
      [['ACL', 'SETUSER', 'acl-u1', 'db=99999'], '+OK'],
      [['ACL', 'SETUSER', 'acl-u1', 'resetdbs'], '+OK'],
      [['ACL', 'LIST'], aclList('user acl-u1 off sanitize-payload resetchannels resetdbs -@all')],
      [['ACL', 'GETUSER', 'acl-u1'], getuser({flags: ['off', 'sanitize-payload'], commands: '-@all', databases: ''})],
      [['ACL', 'SETUSER', 'acl-u1', 'db=5', 'ALLDBS'], '+OK'],
      [['ACL', 'LIST'], aclList('user acl-u1 off sanitize-payload resetchannels alldbs -@all')],
      [['ACL', 'SETUSER', 'acl-u1', 'db=4', 'reset'], '+OK'],
      [['ACL', 'LIST'], aclList('user acl-u1 off sanitize-payload resetchannels alldbs -@all')],
      [['ACL', 'GETUSER', 'nosuch'], null],
      [['ACL', 'USERS'], ['$acl-u1', '$default']],
      [['ACL', 'DELUSER', 'acl-u1', 'nosuch'], ':1'],
      [['ACL', 'DELUSER', 'default'], "-ERR The 'default' user cannot be removed"],
    ],
  },
  {
    name: 'ACL SETUSER rules: passwords, key patterns, command and category rules, and their errors',
    cleanup: [['ACL', 'DELUSER', 'acl-u2']],
    steps: [
      [['ACL', 'SETUSER', 'acl-u2', 'on', 'nopass', '~k:*', '+get', '+set', '-@all', '+@read'], '+OK'],
      [['ACL', 'LIST'], aclList('user acl-u2 on nopass sanitize-payload ~k:* resetchannels alldbs -@all +@read')],
      [['ACL', 'SETUSER', 'acl-u2', '+@all', '-@dangerous', '+config|get', '-client|list', '+CLIENT|LIST'], '+OK'],
      [['ACL', 'LIST'], aclList('user acl-u2 on nopass sanitize-payload ~k:* resetchannels alldbs +@all -@dangerous +config|get +client|list')],
      [['ACL', 'SETUSER', 'acl-u2', '-config'], '+OK'],
      [['ACL', 'GETUSER', 'acl-u2'], getuser({flags: ['on', 'nopass', 'sanitize-payload'], commands: '+@all -@dangerous +client|list -config', keys: '~k:*', databases: 'alldbs'})],
      [['ACL', 'SETUSER', 'acl-u2', '>p1', '>p2', '>p1', 'resetkeys', '%R~r:*', '%W~w:*', '%RW~rw:*', '%R~w:*', '&chan'], '+OK'],
      [['ACL', 'SETUSER', 'acl-u2', '%X~a'], "-ERR Error in ACL SETUSER modifier '%X~a': Syntax error"],
      [['ACL', 'GETUSER', 'acl-u2'], getuser({flags: ['on', 'sanitize-payload'], passwords: [P1_HASH, P2_HASH], commands: '+@all -@dangerous +client|list -config', keys: '%R~r:* ~w:* ~rw:*', channels: '&chan', databases: 'alldbs'})],
      [['ACL', 'SETUSER', 'acl-u2', '<p1', `#${SECRET_HASH}`, 'allkeys', 'allchannels'], '+OK'],
      [['ACL', 'LIST'], aclList(`user acl-u2 on sanitize-payload #${P2_HASH} #${SECRET_HASH} ~* &* alldbs +@all -@dangerous +client|list -config`)],
      // Commands the engine lacks (DEBUG, CONFIG REWRITE, CLIENT KILL) are still valid rule names.
      [['ACL', 'SETUSER', 'acl-u2', '-DEBUG', '+config|rewrite', '-client|kill', '+debug|sleep'], '+OK'],
      [['ACL', 'GETUSER', 'acl-u2'], getuser({flags: ['on', 'sanitize-payload'], passwords: [P2_HASH, SECRET_HASH], commands: '+@all -@dangerous +client|list -config -debug +config|rewrite -client|kill +debug|sleep', keys: '~*', channels: '&*', databases: 'alldbs'})],
      [['ACL', 'SETUSER', 'acl-u2', '+nosuch|x'], "-ERR Error in ACL SETUSER modifier '+nosuch|x': Unknown command or category name in ACL"],
      [['ACL', 'SETUSER', 'acl-u2', '+config|nosuch'], "-ERR Error in ACL SETUSER modifier '+config|nosuch': Unknown command or category name in ACL"],
      [['ACL', 'SETUSER', 'acl-u2', '<p9'], "-ERR Error in ACL SETUSER modifier '<p9': The password you are trying to remove from the user does not exist"],
      [['ACL', 'SETUSER', 'acl-u2', '#abc'], "-ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"],
      [['ACL', 'SETUSER', 'acl-u2', '+nosuch'], "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"],
      [['ACL', 'SETUSER', 'acl-u2', '-@nosuch'], "-ERR Error in ACL SETUSER modifier '-@nosuch': Unknown command or category name in ACL"],
      [['ACL', 'SETUSER', 'acl-u2', 'bogus'], "-ERR Error in ACL SETUSER modifier 'bogus': Syntax error"],
      [['ACL', 'SETUSER', 'acl-u2', '+client|id|x'], "-ERR Error in ACL SETUSER modifier '+client|id|x': Allowing first-arg of a subcommand is not supported"],
      [
        ['ACL', 'SETUSER', 'acl-u2', '~x'],
        "-ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
      ],
      [
        ['ACL', 'SETUSER', 'acl-u2', '&x'],
        "-ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
      ],
      [['ACL', 'SETUSER', 'a b'], "-ERR Usernames can't contain spaces or null characters"],
      [['ACL', 'SAVE'], /^-ERR This instance is not configured to use an ACL file\./],
      [['ACL', 'LOAD'], /^-ERR This instance is not configured to use an ACL file\./],
    ],
  },
  {
    name: 'ACL: command rules and key patterns answer NOPERM; ACL DRYRUN judges in the caller\'s db',
    cleanup: [['ACL', 'DELUSER', 'acl-u3']],
    steps: [
      [['ACL', 'SETUSER', 'acl-u3', 'on', '>pw', 'resetkeys', '~{b}p*', '%R~{b}r*', '+@all', '-get', '-@dangerous', 'db=3'], '+OK'],
      [['ACL', 'DRYRUN', 'acl-u3', 'get', '{b}p1'], '$User acl-u3 has no permissions to access database get'],
      [['ACL', 'DRYRUN', 'acl-u3', 'select', '4'], '$User acl-u3 has no permissions to access database 4'],
      [['SELECT', '3'], '+OK'],
      [['ACL', 'DRYRUN', 'acl-u3', 'get', '{b}p1'], "$User acl-u3 has no permissions to run the 'get' command"],
      [['ACL', 'DRYRUN', 'acl-u3', 'set', '{b}k', 'v'], "$User acl-u3 has no permissions to access the '{b}k' key"],
      [['ACL', 'DRYRUN', 'acl-u3', 'set', '{b}p1', 'v'], '+OK'],
      [['ACL', 'DRYRUN', 'nosuch', 'get', 'k'], "-ERR User 'nosuch' not found"],
      [['ACL', 'DRYRUN', 'acl-u3', 'get'], "-ERR wrong number of arguments for 'get' command"],
      use('u3'),
      [['AUTH', 'acl-u3', 'pw'], '+OK'],
      // The database rule comes first: GET is denied by db before its command rule.
      [['GET', '{b}p1'], NOPERM_DB],
      [['SELECT', '3'], '+OK'],
      [['GET', '{b}p1'], "-NOPERM User acl-u3 has no permissions to run the 'get' command"],
      [['SET', '{b}k', 'v'], NOPERM_KEY],
      [['SET', '{b}p1', 'v'], '+OK'],
      [['MSET', '{b}p2', 'a', '{b}q2', 'b'], NOPERM_KEY],
      [['STRLEN', '{b}r1'], ':0'],
      [['SET', '{b}r1', 'v'], NOPERM_KEY],
      [['KEYS', '*'], "-NOPERM User acl-u3 has no permissions to run the 'keys' command"],
      [['MOVE', '{b}k', '4'], NOPERM_DB],
      [['FLUSHDB'], "-NOPERM User acl-u3 has no permissions to run the 'flushdb' command"],
      [['CLIENT', 'ID'], /^:\d+$/],
    ],
  },
  {
    name: 'ACL LOG: database, command, key and auth denials, grouped and newest first',
    cleanup: [['ACL', 'DELUSER', 'acl-u4']],
    steps: [
      [['ACL', 'LOG', 'RESET'], '+OK'],
      [['ACL', 'SETUSER', 'acl-u4', 'on', '>pw', 'resetkeys', '~{b}p*', '+@all', '-@admin', 'db=3'], '+OK'],
      use('u4'),
      [['AUTH', 'acl-u4', 'nope'], WRONGPASS],
      [['AUTH', 'acl-u4', 'pw'], '+OK'],
      [['GET', '{b}p'], NOPERM_DB],
      [['SELECT', '4'], NOPERM_DB],
      [['SELECT', '3'], '+OK'],
      [['SWAPDB', '4', '3'], NOPERM_DB],
      [['MOVE', '{b}p', '5'], NOPERM_DB],
      [['COPY', '{b}p', '{b}p2', 'DB', '6'], NOPERM_DB],
      [['FLUSHALL'], NOPERM_DB],
      [['GET', '{b}x'], NOPERM_KEY],
      [['CONFIG', 'GET', 'x'], "-NOPERM User acl-u4 has no permissions to run the 'config|get' command"],
      use('default'),
      [
        ['ACL', 'LOG'],
        [
          logEntry(1, 'command', 'toplevel', 'config|get', 'acl-u4', 'config|get'),
          logEntry(1, 'key', 'toplevel', '{b}x', 'acl-u4', 'get'),
          logEntry(1, 'database', 'toplevel', 'flushall', 'acl-u4', 'flushall'),
          logEntry(1, 'database', 'toplevel', 'copy', 'acl-u4', 'copy'),
          logEntry(1, 'database', 'toplevel', '5', 'acl-u4', 'move'),
          // SELECT 4 and SWAPDB 4 3 refused the same db: one entry, counted twice.
          logEntry(2, 'database', 'toplevel', '4', 'acl-u4', 'swapdb'),
          logEntry(1, 'database', 'toplevel', 'get', 'acl-u4', 'get'),
          logEntry(1, 'auth', 'toplevel', 'AUTH', 'acl-u4', 'auth'),
        ],
      ],
      [['ACL', 'LOG', '1'], [logEntry(1, 'command', 'toplevel', 'config|get', 'acl-u4', 'config|get')]],
      [['ACL', 'LOG', 'x'], '-ERR value is not an integer or out of range'],
      [['ACL', 'LOG', 'RESET'], '+OK'],
      [['ACL', 'LOG'], []],
    ],
  },
  {
    name: 'ACL: HELLO 3 AUTH user pass, disabled users, RESP3 GETUSER',
    cleanup: [['ACL', 'DELUSER', 'acl-u5', 'acl-off']],
    steps: [
      [['ACL', 'SETUSER', 'acl-u5', 'on', '>pw', '~*', '+@all', 'db=2'], '+OK'],
      [['ACL', 'SETUSER', 'acl-off', 'off', '>pw', '~*', '+@all'], '+OK'],
      use('u5'),
      [['AUTH', 'acl-off', 'pw'], WRONGPASS],
      [['HELLO', '3', 'AUTH', 'acl-u5', 'wrong'], WRONGPASS],
      [['ACL', 'WHOAMI'], '$default'],
      [['HELLO', '3', 'AUTH', 'acl-u5', 'pw'], ANY],
      [['ACL', 'WHOAMI'], '$acl-u5'],
      [['GET', '{b}k'], NOPERM_DB],
      [['SELECT', '2'], '+OK'],
      [['SET', '{b}k', 'v'], '+OK'],
      use('default'),
      [['HELLO', '3'], ANY],
      [
        ['ACL', 'GETUSER', 'acl-u5'],
        {
          map: [
            ['$flags', {set: ['$on', '$sanitize-payload']}],
            ['$passwords', ['$' + PW_HASH]],
            ['$commands', '$+@all'],
            ['$keys', '$~*'],
            ['$channels', '$'],
            ['$databases', '$db=2'],
            ['$selectors', []],
          ],
        },
      ],
    ],
  },
  {
    name: 'ACL in MULTI and scripts: refused when queued, checked again at EXEC, ACL failure in script',
    cleanup: [['ACL', 'DELUSER', 'acl-u6']],
    steps: [
      [['ACL', 'SETUSER', 'acl-u6', 'on', '>pw', '~*', '+@all', 'db=3'], '+OK'],
      use('u6'),
      [['AUTH', 'acl-u6', 'pw'], '+OK'],
      [['MULTI'], '+OK'],
      [['SET', '{b}a', '1'], NOPERM_DB],
      [['SELECT', '3'], '+QUEUED'],
      [['EXEC'], '-EXECABORT Transaction discarded because of previous errors.'],
      [['SELECT', '3'], '+OK'],
      [['MULTI'], '+OK'],
      [['SELECT', '4'], NOPERM_DB],
      [['EXEC'], '-EXECABORT Transaction discarded because of previous errors.'],
      [['MULTI'], '+OK'],
      [['GET', '{b}a'], '+QUEUED'],
      [['SET', '{b}a', '1'], '+QUEUED'],
      use('default'),
      [['ACL', 'SETUSER', 'acl-u6', '-get'], '+OK'],
      use('u6'),
      [
        ['EXEC'],
        [
          '-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand',
          '+OK',
        ],
      ],
      [['EVAL', "return redis.call('select','4')", '0'], '-ERR ACL failure in script: No permissions to access database script: on @user_script:1.'],
      [['EVAL', "return redis.call('get','{b}a')", '1', '{b}a'], "-ERR ACL failure in script: User acl-u6 has no permissions to run the 'get' command script: on @user_script:1."],
      [['EVAL', "return redis.call('set','{b}a','2')", '1', '{b}a'], '+OK'],
      use('default'),
      [['ACL', 'LOG', '1'], [logEntry(1, 'command', 'lua', 'get', 'acl-u6', 'eval')]],
    ],
  },
]
