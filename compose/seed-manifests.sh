#!/bin/sh
# Creates /srv/git/manifests.git from manifests-example/ the first time; later runs keep it.
set -eu
repo="${GIT_DIR_ROOT:-/srv/git}/manifests.git"
[ -d "$repo" ] && exit 0
work=$(mktemp -d)
cp -R "${EXAMPLE:-/example}/." "$work"
git -C "$work" init -q -b main
git -C "$work" -c user.name=hoist -c user.email=hoist@localhost add -A
git -C "$work" -c user.name=hoist -c user.email=hoist@localhost commit -q -m "chore: seed from manifests-example"
git clone -q --bare "$work" "$repo"
echo "seeded $repo"
