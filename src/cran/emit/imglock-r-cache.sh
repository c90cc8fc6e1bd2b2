#!/bin/sh
# imglock-r-cache pull|push NAME VERSION SHA256 COMMIT BINARY_SHA256 FILE
# The shared R binary cache: an OCI registry repository (IMGLOCK_R_CACHE, oci://HOST/REPOSITORY;
# plain HTTP only for a loopback host, as Docker allows), read and written with curl over the
# OCI distribution API. Called by imglock-r-install before a build (pull) and after one (push).
#
# One artifact per cache entry, tagged with the sha256 of the entry's id
#   IMGLOCK_R_PACKAGE_KEY/NAME_VERSION_SHA256[_COMMIT]  (the package's whole cache key: IMGLOCK_R_KEY/LINKED)
# (the path of the local binary cache): an OCI image manifest whose one layer is the binary
# tarball (media type application/vnd.imglock.r-binary.v1.tar+gzip), with the id, the package,
# its source sha256, the cache key and what built it in its annotations.
#
# pull: downloads the entry's binary into FILE and exits 0 when the registry has the entry, its
# blob has the sha256 the manifest names and, unless BINARY_SHA256 is -, that sha256 is the one
# the lock records; anything else is said on stderr and exits 1 (the package is then built).
# push: uploads FILE (blob, then manifest) when credentials are given; a failure is said on
# stderr and never fails the build. COMMIT and BINARY_SHA256 are - when there is none.
#
# Credentials are a BuildKit/buildah secret, id imglock-cache, mounted at
# /run/secrets/imglock-cache (IMGLOCK_R_CACHE_SECRET elsewhere): one line `USER:PASSWORD` (HTTP
# basic authentication), handed to curl in a config file removed on exit, never on its command
# line, in a layer or in the log.
# Without them the cache is read anonymously and nothing is pushed.
set -eu
say() {
    echo "imglock: $*" >&2
}
[ "$#" -eq 7 ] || {
    say "imglock-r-cache takes pull|push NAME VERSION SHA256 COMMIT BINARY_SHA256 FILE, not: $*"
    exit 2
}
action=$1
name=$2
version=$3
sha256=$4
commit=$5
binary=$6
file=$7
key=${IMGLOCK_R_PACKAGE_KEY:?}
location=${IMGLOCK_R_CACHE:?}
what="R package $name $version"
case "$location" in
    oci://*/*) rest=${location#oci://} ;;
    *)
        say "the shared binary cache \`$location\` is not oci://HOST/REPOSITORY"
        exit 2
        ;;
esac
host=${rest%%/*}
repository=${rest#*/}
case "$host" in
    '' | *[!A-Za-z0-9.:[\]-]*)
        say "the shared binary cache's host \`$host\` is not a host name with an optional port"
        exit 2
        ;;
esac
case "$repository" in
    '' | *[!a-z0-9._/-]* | /* | */ | *//*)
        say "the shared binary cache's repository \`$repository\` is not an OCI repository name"
        exit 2
        ;;
esac
case "$host" in
    localhost | localhost:* | 127.0.0.1 | 127.0.0.1:* | '[::1]' | '[::1]:'*) scheme=http ;;
    *) scheme=https ;;
esac
api="$scheme://$host/v2/$repository"
id="$key/${name}_${version}_${sha256}"
[ "$commit" = - ] || id="${id}_$commit"
tag=$(printf '%s' "$id" | sha256sum | cut -d " " -f 1)
layer_type=application/vnd.imglock.r-binary.v1.tar+gzip
manifest_type=application/vnd.oci.image.manifest.v1+json
# The empty config every OCI artifact without one names.
empty_type=application/vnd.oci.empty.v1+json
empty_digest=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# curl's options: $config for the registry, $basic (with the credentials) for a token service.
config="$scratch/curl"
basic="$scratch/basic"
printf '%s\n' 'silent' 'show-error' 'retry = 2' 'connect-timeout = 20' >"$config"
cp "$config" "$basic"
secret=${IMGLOCK_R_CACHE_SECRET:-/run/secrets/imglock-cache}
credentials=no
if [ -s "$secret" ]; then
    credentials=yes
    # curl's config syntax: a quoted value, with \ and " escaped.
    head -n 1 "$secret" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/user = "/; s/$/"/' >>"$basic"
    cp "$basic" "$config"
fi

# request METHOD URL OUT [CURL OPTION...]: the HTTP status, the body in OUT.
request() {
    method=$1
    url=$2
    out=$3
    shift 3
    case "$method" in
        HEAD) set -- --head "$@" ;;
        *) set -- -X "$method" "$@" ;;
    esac
    curl -K "$config" -o "$out" -w '%{http_code}' "$@" "$url" 2>"$scratch/error" || echo 000
}

# What curl said about the last request, if anything: ` (its message)`.
why() {
    [ -s "$scratch/error" ] && printf ' (%s)' "$(head -n 1 "$scratch/error")"
    return 0
}

# As docker login does: asks the registry's API root which authentication it wants, and for a
# bearer token (Docker Hub, GHCR, Harbor, ...) gets one from the token service its challenge
# names (with the credentials, if any), for pull, and push when there are credentials. A
# registry with basic authentication gets the credentials on every request.
login() {
    status=$(curl -K "$basic" -o /dev/null -D "$scratch/challenge" -w '%{http_code}' "$scheme://$host/v2/" 2>"$scratch/error") || status=000
    [ "$status" = 401 ] || return 0
    challenge=$(tr -d '\r' <"$scratch/challenge" | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *[Bb]earer *//p' | tail -n 1)
    [ -n "$challenge" ] || return 0
    realm=$(printf '%s' "$challenge" | sed -n 's/.*realm="\([^"]*\)".*/\1/p')
    service=$(printf '%s' "$challenge" | sed -n 's/.*service="\([^"]*\)".*/\1/p')
    actions=pull
    [ "$credentials" = no ] || actions=pull,push
    set -- -G --data-urlencode "scope=repository:$repository:$actions"
    [ -z "$service" ] || set -- "$@" --data-urlencode "service=$service"
    if ! curl -K "$basic" -f -o "$scratch/token" "$@" "$realm" 2>"$scratch/error"; then
        say "the shared binary cache $location: its token service $realm refused$(why)"
        return 0
    fi
    token=$(tr -d ' \n\r\t' <"$scratch/token" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p; t; s/.*"access_token":"\([^"]*\)".*/\1/p')
    case "$token" in
        '' | *[!A-Za-z0-9._~+/=-]*)
            say "the shared binary cache $location: its token service $realm gave no token"
            return 0
            ;;
    esac
    grep -v '^user = ' "$basic" >"$config"
    printf 'header = "Authorization: Bearer %s"\n' "$token" >>"$config"
}

pull() {
    status=$(request GET "$api/manifests/$tag" "$scratch/manifest" -H "Accept: $manifest_type")
    case "$status" in
        200) ;;
        404)
            say "$what is not in the shared binary cache $location"
            return 1
            ;;
        *)
            say "the shared binary cache $location answered HTTP $status for $what$(why); building it"
            return 1
            ;;
    esac
    compact=$(tr -d ' \n\r\t' <"$scratch/manifest")
    case "$compact" in
        *"\"org.imglock.r.cache-id\":\"$id\""*) ;;
        *)
            say "the shared binary cache's entry for $what is not one imglock pushed for its cache key; building it"
            return 1
            ;;
    esac
    digest=$(printf '%s' "$compact" | sed -n 's/.*"mediaType":"application\/vnd\.imglock\.r-binary\.v1\.tar+gzip","digest":"sha256:\([0-9a-f]\{64\}\)".*/\1/p')
    if [ -z "$digest" ]; then
        say "the shared binary cache's entry for $what names no $layer_type layer; building it"
        return 1
    fi
    if [ "$binary" != - ] && [ "$digest" != "$binary" ]; then
        say "not installing the shared binary cache's $what: its sha256 is $digest, but the lock records $binary; building it"
        return 1
    fi
    status=$(request GET "$api/blobs/sha256:$digest" "$file" -L)
    if [ "$status" != 200 ]; then
        say "the shared binary cache $location answered HTTP $status for the binary of $what; building it"
        return 1
    fi
    found=$(sha256sum "$file" | cut -d " " -f 1)
    if [ "$found" != "$digest" ]; then
        rm -f "$file"
        say "the shared binary cache's binary of $what has sha256 $found, not the $digest its manifest names; building it"
        return 1
    fi
    say "$what pulled from the shared binary cache $location (binary sha256 $digest)"
}

# upload FILE DIGEST: puts the blob unless the repository has it.
upload() {
    status=$(request HEAD "$api/blobs/sha256:$2" /dev/null)
    [ "$status" != 200 ] || return 0
    status=$(request POST "$api/blobs/uploads/" /dev/null -D "$scratch/headers" -H 'Content-Length: 0')
    [ "$status" = 202 ] || return 1
    upload_at=$(tr -d '\r' <"$scratch/headers" | sed -n 's/^[Ll]ocation: *//p' | tail -n 1)
    case "$upload_at" in
        /*) upload_at="$scheme://$host$upload_at" ;;
    esac
    case "$upload_at" in
        *"?"*) upload_at="$upload_at&digest=sha256:$2" ;;
        *) upload_at="$upload_at?digest=sha256:$2" ;;
    esac
    status=$(request PUT "$upload_at" /dev/null -H 'Content-Type: application/octet-stream' --data-binary "@$1")
    [ "$status" = 201 ]
}

push() {
    if [ "$credentials" = no ]; then
        say "$what not pushed to the shared binary cache $location: no credentials (build with the secret imglock-cache)"
        return 0
    fi
    digest=$(sha256sum "$file" | cut -d " " -f 1)
    size=$(wc -c <"$file" | tr -d ' ')
    printf '{}' >"$scratch/empty"
    r_version=$(R --version 2>/dev/null | head -n 1 | tr -d '"\\') || r_version=unknown
    created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    commit_annotation=
    [ "$commit" = - ] || commit_annotation=",\"org.imglock.r.commit\":\"$commit\""
    cat >"$scratch/manifest" <<EOF
{"schemaVersion":2,"mediaType":"$manifest_type","artifactType":"application/vnd.imglock.r-binary.v1","config":{"mediaType":"$empty_type","digest":"sha256:$empty_digest","size":2},"layers":[{"mediaType":"$layer_type","digest":"sha256:$digest","size":$size,"annotations":{"org.opencontainers.image.title":"${name}_${version}.tgz"}}],"annotations":{"org.imglock.r.cache-id":"$id","org.imglock.r.cache-key":"$key","org.imglock.r.name":"$name","org.imglock.r.version":"$version","org.imglock.r.source-sha256":"$sha256"$commit_annotation,"org.imglock.r.binary-sha256":"$digest","org.imglock.r.built-with":"$r_version","org.opencontainers.image.created":"$created"}}
EOF
    if upload "$scratch/empty" "$empty_digest" && upload "$file" "$digest"; then
        status=$(request PUT "$api/manifests/$tag" /dev/null -H "Content-Type: $manifest_type" --data-binary "@$scratch/manifest")
    else
        status=${status:-000}
    fi
    if [ "$status" = 201 ]; then
        say "$what pushed to the shared binary cache $location (binary sha256 $digest)"
    else
        say "pushing $what to the shared binary cache $location failed (HTTP $status)$(why); the build goes on"
    fi
}

case "$action" in
    pull)
        login
        pull
        ;;
    push)
        [ "$credentials" = no ] || login
        push
        ;;
    *)
        say "imglock-r-cache: the action \`$action\` is neither pull nor push"
        exit 2
        ;;
esac
