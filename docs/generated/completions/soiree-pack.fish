# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_soiree_pack_global_optspecs
    string join \n q/quiet v/verbose color= h/help V/version
end

function __fish_soiree_pack_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_soiree_pack_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_soiree_pack_using_subcommand
    set -l cmd (__fish_soiree_pack_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -s V -l version -d 'Print version'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "build" -d 'Build the party\'s packages into signed .spk files'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "check" -d 'Check party.toml and the recipes it uses, without building anything'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "run" -d 'Run a package the way a grain would, in bubblewrap'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "up" -d 'Bring the whole party up as Sandstorm runs it'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "enter" -d 'Open a shell inside a grain that `run` or `up` is running'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "ls" -d 'List a package\'s files, sizes and who put them there'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "why" -d 'Say why a path is in a package'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "push" -d 'Push the party\'s OCI images (built by `build --target oci`) to a registry'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "init" -d 'Start a party: party.toml with one package, a recipe, an icon'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "new" -d 'Start a recipe (`new recipe NAME`)'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "recipes" -d 'List the recipes beside party.toml with their parameters'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "add" -d 'Add a recipe to a package in party.toml'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "set" -d 'Set one value in party.toml'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "lock" -d 'Download, verify and pin every download source in party.lock'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "descriptor" -d 'Encode or decode a powerbox descriptor'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "pack" -d 'Pack a prepared directory into a signed .spk'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "verify" -d 'Check a package the way Sandstorm does before installing it'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "unpack" -d 'Verify a package and unpack it into a new directory'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "sign" -d 'Sign a package again with another key, without recompressing it'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "cache" -d 'Show or clean soiree-pack\'s caches: compressed blocks, downloads and built sources'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "keygen" -d 'Generate a signing key, append it to the keyring and print its app id'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "keys" -d 'List or export the keys of a keyring'
complete -c soiree-pack -n "__fish_soiree_pack_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l out -d 'Where to write the packages (default: `dist` beside the party file)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -s k -l keyring -d 'Keyring file (concatenated KeyFile messages, as `spk` keeps them)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l compression -d 'How hard to compress' -r -f -a "fast\t'xz -1: quick, larger packages for development'
default\t'xz -6, as `spk pack`'
best\t'xz -9e: slowest, smallest'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l sysroot -d 'Take the system from DIR instead of this machine (a debootstrap tree, an exported container filesystem): the libraries and interpreters the programs need, and every source whose path is `/`' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l rebuild -d 'Run the command of this source again even when its output is cached (repeatable)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l target -d 'What to build: `spk` (default: Sandstorm packages), `oci` (an OCI image layout per package in OUT/oci/<package>/, run by its supervisor without Sandstorm\'s bridge), `compose` (OUT/compose/compose.yaml) or `helm` (a chart in OUT/helm/<party>/); see docs/beyond-sandstorm.md' -r -f -a "spk\t'Signed Sandstorm packages: OUT/<package>.spk and OUT/<package>/'
oci\t'OCI image layouts: OUT/oci/<package>/'
compose\t'A compose file for one host, a service per package: OUT/compose/compose.yaml'
helm\t'A Helm chart, a Pod per package: OUT/helm/<party>/'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l registry -d 'The HOST/PREFIX images are named under (HOST/PREFIX/<party>-<package>:<app-version>; default localhost/soiree): the images `oci` writes, and those the compose file and chart pull' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l release -d 'Require each package\'s real key (its app-id, in the keyring or SOIREE_SIGNING_KEY); without it a development key signs and the app id differs'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l offline -d 'Use only sources already in the cache; a missing one is an error that names it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l fast -d 'Same as `--compression fast`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l x86-filter -d 'xz\'s x86 branch filter for blocks of x86 machine code: about 4% smaller, but Sandstorm only; Tempest (and any reader without BCJ filters) cannot read these packages'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -l no-cache -d 'Compress every block afresh, without reading or filling the block cache'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l sysroot -d 'Take the system from DIR instead of this machine (a debootstrap tree, an exported container filesystem): the libraries and interpreters the programs need, and every source whose path is `/`' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l rebuild -d 'Run the command of this source again even when its output is cached (repeatable)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l var -d 'The host directory that is the grain\'s /var, kept between runs (default: .soiree/run/NAME/var)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l port -d 'The host port (on 127.0.0.1) for the HTTP bridge\'s port (default: the same number; 0 picks a free one)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l tcp -d 'Also forward a TCP port of the grain: GRAIN[:HOST] (HOST defaults to GRAIN)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l udp -d 'Forward a UDP port of the grain: GRAIN[:HOST] (HOST defaults to GRAIN)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -l offline -d 'Use only sources already in the cache; a missing one is an error that names it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l sysroot -d 'Take the system from DIR instead of this machine (a debootstrap tree, an exported container filesystem): the libraries and interpreters the programs need, and every source whose path is `/`' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l rebuild -d 'Run the command of this source again even when its output is cached (repeatable)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l port -d 'The gateway\'s port on 127.0.0.1 (0 picks a free one)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l idle -d 'Stop a grain when an idle check, every SECS seconds, finds it neither used since the last one nor held awake (Sandstorm: 90); the next request starts it again. 0 never stops an idle grain' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l source -d 'Use folder DIR as the party\'s source NAME (for example the real bridge: `--source sandstorm-bundle=DIR`, DIR holding bin/sandstorm-http-bridge)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l link -d 'Once the grains are up, grant package PKG\'s Powerbox request REQUEST (a `[[packages.PKG.requests]]` of party.toml) with an API package TARGET exports (API, by its name in `[[packages.TARGET.offers]]`, when several match), as the shell\'s picker would, for the grain\'s owner; repeatable. For CI: links survive restarts' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -l offline -d 'Use only sources already in the cache; a missing one is an error that names it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand enter" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand enter" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand enter" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand enter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l sysroot -d 'Take the system from DIR instead of this machine (a debootstrap tree, an exported container filesystem): the libraries and interpreters the programs need, and every source whose path is `/`' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l rebuild -d 'Run the command of this source again even when its output is cached (repeatable)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l offline -d 'Use only sources already in the cache; a missing one is an error that names it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l sysroot -d 'Take the system from DIR instead of this machine (a debootstrap tree, an exported container filesystem): the libraries and interpreters the programs need, and every source whose path is `/`' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l rebuild -d 'Run the command of this source again even when its output is cached (repeatable)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l all -d 'List every chain that brings the path in, not only the shortest'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l offline -d 'Use only sources already in the cache; a missing one is an error that names it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand why" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l registry -d 'The registry and prefix to push to, e.g. ghcr.io/v-sekai or 127.0.0.1:5000/soiree' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l out -d 'Where the images were built (default: `dist` beside the party file)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l insecure -d 'Plain HTTP instead of HTTPS (loopback registries always get plain HTTP)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand init" -l name -d 'The package\'s name (default: from the folder\'s name)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand init" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand init" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand init" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and not __fish_seen_subcommand_from recipe help" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and not __fish_seen_subcommand_from recipe help" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and not __fish_seen_subcommand_from recipe help" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and not __fish_seen_subcommand_from recipe help" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and not __fish_seen_subcommand_from recipe help" -f -a "recipe" -d 'Write recipes/NAME.toml beside party.toml: a parameter, a file mapping and a service to fill in, every key explained'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and not __fish_seen_subcommand_from recipe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from recipe" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from recipe" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from recipe" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from recipe" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from recipe" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from help" -f -a "recipe" -d 'Write recipes/NAME.toml beside party.toml: a parameter, a file mapping and a service to fill in, every key explained'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand new; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand recipes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -s p -l package -d 'The package of the party that gets the recipe' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -l set -d 'A recipe parameter, `key=value` (value in TOML syntax; bare words are strings)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand set" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand set" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand set" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand set" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -l party -d 'The party file; recipes are read from `recipes/` beside it (default: `party.toml` here or in the nearest folder above that has one)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -l profile -d 'Use this profile\'s sources (for example `release`: pinned upstream downloads)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -l offline -d 'Check against the cache only; a source that is not cached is an error'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand lock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -f -a "encode" -d 'Encode a powerbox request descriptor (packed, base64url) from flags'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -f -a "decode" -d 'Decode a descriptor string and print it as JSON'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and not __fish_seen_subcommand_from encode decode help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -l interface -d 'api-session, ip-interface or ip-network' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -l canonical-url -d 'For api-session: the API\'s canonical URL' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -l tls -d 'For ip-network: require TLS'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from encode" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from decode" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from decode" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from decode" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from decode" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from help" -f -a "encode" -d 'Encode a powerbox request descriptor (packed, base64url) from flags'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from help" -f -a "decode" -d 'Decode a descriptor string and print it as JSON'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand descriptor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -s o -l output -d 'Where to write the package' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -s k -l keyring -d 'Keyring file (concatenated KeyFile messages, as `spk` keeps them)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -l app-id -d 'Sign with the key of this app id (default: SOIREE_SIGNING_KEY, or the keyring\'s only key)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -l compression -d 'How hard to compress' -r -f -a "fast\t'xz -1: quick, larger packages for development'
default\t'xz -6, as `spk pack`'
best\t'xz -9e: slowest, smallest'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -l fast -d 'Same as `--compression fast`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -l x86-filter -d 'xz\'s x86 branch filter for blocks of x86 machine code: about 4% smaller, but Sandstorm only; Tempest (and any reader without BCJ filters) cannot read these packages'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -l no-cache -d 'Compress every block afresh, without reading or filling the block cache'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand pack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand verify" -l message-format -d '`human` (default), or `json`: one JSON object a line, errors included' -r -f -a "human\t'Text for people'
json\t'One JSON object a line, for scripts and CI annotations'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand verify" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand verify" -l json -d 'Same as `--message-format json`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand verify" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand verify" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand unpack" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand unpack" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand unpack" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand unpack" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -s o -l output -d 'Where to write the signed package' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -s k -l keyring -d 'Keyring file (concatenated KeyFile messages, as `spk` keeps them)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l app-id -d 'Sign with the key of this app id (default: SOIREE_SIGNING_KEY, or the keyring\'s only key)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l compression -d 'How hard to compress' -r -f -a "fast\t'xz -1: quick, larger packages for development'
default\t'xz -6, as `spk pack`'
best\t'xz -9e: slowest, smallest'"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l verify -d 'Run every `verify` check on the input first'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l fast -d 'Same as `--compression fast`'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l x86-filter -d 'xz\'s x86 branch filter for blocks of x86 machine code: about 4% smaller, but Sandstorm only; Tempest (and any reader without BCJ filters) cannot read these packages'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -l no-cache -d 'Compress every block afresh, without reading or filling the block cache'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -f -a "clean" -d 'Empty the caches, or trim them together to `--keep`, least recently used first'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -f -a "info" -d 'Show where each cache is and how much it holds'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and not __fish_seen_subcommand_from clean info help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -l keep -d 'Keep up to this much across the caches (bytes, or with a K, M, G suffix)' -r
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -l blocks -d 'The cache of compressed blocks (what makes re-packing fast)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -l sources -d 'The source cache: downloads, unpacked archives, command sources\' outputs and logs'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from clean" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from info" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from info" -l blocks -d 'The cache of compressed blocks (what makes re-packing fast)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from info" -l sources -d 'The source cache: downloads, unpacked archives, command sources\' outputs and logs'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from info" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from info" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from info" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "clean" -d 'Empty the caches, or trim them together to `--keep`, least recently used first'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "info" -d 'Show where each cache is and how much it holds'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand cache; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keygen" -s k -l keyring -d 'Keyring file (concatenated KeyFile messages, as `spk` keeps them)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keygen" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keygen" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keygen" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keygen" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -f -a "list" -d 'Print the app id of every key, one a line'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -f -a "export" -d 'Write one key as a KeyFile message (a one-key keyring) to standard output, or with `-o FILE` to a new file of mode 0600'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and not __fish_seen_subcommand_from list export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from list" -s k -l keyring -d 'Keyring file (concatenated KeyFile messages, as `spk` keeps them)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from list" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from export" -s k -l keyring -d 'Keyring file (concatenated KeyFile messages, as `spk` keeps them)' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from export" -s o -l output -d 'Write the key to this new file (mode 0600) instead of standard output' -r -F
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from export" -l color -d 'When to use colours and progress bars: `auto` (on a terminal), `always` or `never`' -r -f -a "auto\t''
always\t''
never\t''"
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Say less: only errors and warnings (no progress, no confirmations)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Say more: each step (sources resolved, files planned, blocks compressed)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'Print the app id of every key, one a line'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write one key as a KeyFile message (a one-key keyring) to standard output, or with `-o FILE` to a new file of mode 0600'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "build" -d 'Build the party\'s packages into signed .spk files'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "check" -d 'Check party.toml and the recipes it uses, without building anything'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "run" -d 'Run a package the way a grain would, in bubblewrap'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "up" -d 'Bring the whole party up as Sandstorm runs it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "enter" -d 'Open a shell inside a grain that `run` or `up` is running'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "ls" -d 'List a package\'s files, sizes and who put them there'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "why" -d 'Say why a path is in a package'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "push" -d 'Push the party\'s OCI images (built by `build --target oci`) to a registry'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "init" -d 'Start a party: party.toml with one package, a recipe, an icon'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "new" -d 'Start a recipe (`new recipe NAME`)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "recipes" -d 'List the recipes beside party.toml with their parameters'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "add" -d 'Add a recipe to a package in party.toml'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "set" -d 'Set one value in party.toml'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "lock" -d 'Download, verify and pin every download source in party.lock'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "descriptor" -d 'Encode or decode a powerbox descriptor'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "pack" -d 'Pack a prepared directory into a signed .spk'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "verify" -d 'Check a package the way Sandstorm does before installing it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "unpack" -d 'Verify a package and unpack it into a new directory'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "sign" -d 'Sign a package again with another key, without recompressing it'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "cache" -d 'Show or clean soiree-pack\'s caches: compressed blocks, downloads and built sources'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "keygen" -d 'Generate a signing key, append it to the keyring and print its app id'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "keys" -d 'List or export the keys of a keyring'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and not __fish_seen_subcommand_from build check run up enter ls why push init new recipes add set lock descriptor pack verify unpack sign cache keygen keys help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from new" -f -a "recipe" -d 'Write recipes/NAME.toml beside party.toml: a parameter, a file mapping and a service to fill in, every key explained'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from descriptor" -f -a "encode" -d 'Encode a powerbox request descriptor (packed, base64url) from flags'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from descriptor" -f -a "decode" -d 'Decode a descriptor string and print it as JSON'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "clean" -d 'Empty the caches, or trim them together to `--keep`, least recently used first'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from cache" -f -a "info" -d 'Show where each cache is and how much it holds'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'Print the app id of every key, one a line'
complete -c soiree-pack -n "__fish_soiree_pack_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "export" -d 'Write one key as a KeyFile message (a one-key keyring) to standard output, or with `-o FILE` to a new file of mode 0600'
