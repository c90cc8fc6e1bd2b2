#!/bin/sh
# imglock-r-jobs JOB...   where a JOB is   imglock-r-install NAME VERSION ... [--after NAME...]
# Installs the R packages of one step, several at once: each JOB is one imglock-r-install call
# (its arguments as the installer takes them), followed by `--after` and the packages of this
# step it needs (Depends, Imports, LinkingTo). A package starts only when every package it
# needs is installed; up to IMGLOCK_R_JOBS packages build at once (default: the builder's
# cores, `nproc`), the first ready in the order given first. The jobs are shared among the
# builds running: a package started while K build gets MAKEFLAGS=-j(IMGLOCK_R_JOBS / K), at
# least 1 and at most IMGLOCK_R_MAKE_JOBS when that is set, so the builds do not oversubscribe
# the builder.
#
# Each install writes its output to a file of its own; when it finishes, the output is printed
# whole, framed by the package's name, so the logs of packages built at once never interleave.
# The lines `imglock: started R package NAME (K of N jobs, make -jM)` and `imglock: finished R
# package NAME` mark when each ran. When a package fails, no other package starts: the running
# ones are waited for, the failed package's log is printed and the step exits non-zero naming it
# and the packages it did not start.
#
# What gets installed does not depend on the job count or on which build ends first: every
# package is built in a folder of its own (see imglock-r-install) and installed into its own
# folder of the library.
set -eu
fail() {
    echo "imglock: $*" >&2
    exit 1
}
# A positive whole number from the variable named $1 (default $2).
count_of() {
    value=$2
    case "$value" in
        '' | *[!0-9]* | 0*) fail "$1 must be a whole number of jobs of at least 1, not \`$value\`" ;;
    esac
    echo "$value"
}
jobs=$(count_of IMGLOCK_R_JOBS "${IMGLOCK_R_JOBS:-$(nproc)}")
make_cap=$(count_of IMGLOCK_R_MAKE_JOBS "${IMGLOCK_R_MAKE_JOBS:-$jobs}")
newline='
'
is_name() {
    case "$1" in
        '' | [!A-Za-z]* | *[!A-Za-z0-9.]*) return 1 ;;
    esac
}
state=$(mktemp -d /tmp/imglock-r-jobs.XXXXXX)
trap 'rm -rf "$state"' EXIT

# --- The job list: a folder per package, holding its installer arguments (one a line) and the
# --- packages of this step it waits for.
order=
current=
mode=
count=0
job_complete() {
    [ -z "$current" ] || [ "$count" -ge 6 ] ||
        fail "imglock-r-jobs: the job of R package $current has $count installer arguments, not NAME VERSION SHA256 SOURCE BINARY_SHA256 LINKED [FIELD...]"
}
for word in "$@"; do
    case "$word" in
        *"$newline"*) fail "imglock-r-jobs: an argument has a line break: $word" ;;
    esac
    if [ "$word" = imglock-r-install ]; then
        job_complete
        mode=arguments
        count=0
        current=
        continue
    fi
    case "$mode" in
        '') fail "imglock-r-jobs: \`$word\` comes before the first imglock-r-install" ;;
        arguments)
            if [ "$word" = --after ] && [ "$count" -ge 6 ]; then
                mode=after
                continue
            fi
            if [ "$count" -eq 0 ]; then
                is_name "$word" || fail "imglock-r-jobs: the R package name \`$word\` is not one R allows"
                [ ! -d "$state/$word" ] || fail "imglock-r-jobs: R package $word has two jobs"
                mkdir "$state/$word"
                : >"$state/$word/after"
                current=$word
                order="$order $word"
            fi
            printf '%s\n' "$word" >>"$state/$current/args"
            count=$((count + 1))
            ;;
        after)
            is_name "$word" || fail "imglock-r-jobs: R package $current waits for \`$word\`, which is not an R package name"
            printf '%s\n' "$word" >>"$state/$current/after"
            ;;
    esac
done
job_complete
[ -n "$order" ] || fail "imglock-r-jobs: no package to install"
for name in $order; do
    while read -r needed; do
        [ -d "$state/$needed" ] || fail "imglock-r-jobs: R package $name waits for $needed, which this step does not install"
    done <"$state/$name/after"
done

# --- Running them.
# Whether every package $1 waits for is installed.
ready() {
    while read -r needed; do
        [ -e "$state/$needed/installed" ] || return 1
    done <"$state/$1/after"
}
# Starts package $1 in the background as the $2th of the builds running, with $3 make jobs; it
# says on fd 3 when it ends, and with which exit status.
start() {
    echo "imglock: started R package $1 ($2 of $jobs jobs, make -j$3)"
    (
        trap - EXIT
        name=$1
        make_jobs=$3
        set --
        while IFS= read -r argument; do
            set -- "$@" "$argument"
        done <"$state/$name/args"
        status=0
        MAKEFLAGS=-j$make_jobs imglock-r-install "$@" >"$state/$name/log" 2>&1 </dev/null 3>&- || status=$?
        echo "$name $status" >&3
    ) &
}
# Prints the whole log of package $1, framed by its name.
print_log() {
    echo "imglock: ---- the log of R package $1 ----"
    cat "$state/$1/log"
    echo "imglock: ---- end of the log of R package $1 ----"
}
mkfifo "$state/ended"
exec 3<>"$state/ended"
running=0
failed=
while :; do
    if [ -z "$failed" ]; then
        starting=
        free=$((jobs - running))
        for name in $order; do
            [ "$free" -gt 0 ] || break
            [ ! -e "$state/$name/started" ] && ready "$name" || continue
            touch "$state/$name/started"
            starting="$starting $name"
            free=$((free - 1))
        done
        set -- $starting
        running=$((running + $#))
        share=$((jobs / (running > 0 ? running : 1)))
        [ "$share" -ge 1 ] || share=1
        [ "$share" -le "$make_cap" ] || share=$make_cap
        for name in "$@"; do
            start "$name" "$running" "$share"
        done
    fi
    [ "$running" -gt 0 ] || break
    read -r name status <&3
    running=$((running - 1))
    if [ "$status" -eq 0 ]; then
        touch "$state/$name/installed"
        echo "imglock: finished R package $name"
    else
        echo "imglock: R package $name failed (exit status $status)"
        failed="${failed:+$failed, }$name"
    fi
    print_log "$name"
done
exec 3>&-
waiting=
for name in $order; do
    [ -e "$state/$name/started" ] || waiting="${waiting:+$waiting }$name"
done
case "$failed" in
    '') ;;
    *,*) fail "the R step stopped: R packages $failed failed (their logs are above)${waiting:+; not started: $waiting}" ;;
    *) fail "the R step stopped: R package $failed failed (its log is above)${waiting:+; not started: $waiting}" ;;
esac
[ -z "$waiting" ] || fail "the R step stopped: R packages $waiting wait for each other (a dependency cycle, which R does not allow)"
