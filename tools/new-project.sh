#!/usr/bin/env bash
# Scaffolds an Nx project folder: tools/new-project.sh <root> <name> <tag> <app|lib>
set -eu
root=$1; name=$2; tag=$3; kind=$4
depth=$(echo "$root" | awk -F/ '{print NF}'); up=$(printf '../%.0s' $(seq 1 "$depth"))
mkdir -p "$root/src"
cat > "$root/project.json" <<JSON
{
  "name": "$name",
  "\$schema": "${up}node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$root/src",
  "projectType": "$( [ "$kind" = app ] && echo application || echo library )",
  "tags": ["$tag"],
  "targets": { "build": {}, "lint": {}, "test": {} }
}
JSON
cat > "$root/tsconfig.json" <<JSON
{
  "extends": "${up}tsconfig.base.json",
  "compilerOptions": { "types": ["node", "jest"] },
  "include": ["src/**/*.ts"]
}
JSON
cat > "$root/tsconfig.spec.json" <<JSON
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "isolatedModules": true }
}
JSON
cat > "$root/jest.config.ts" <<TS
export default {
  displayName: '$name',
  preset: '${up}jest.preset.js',
  rootDir: '.',
};
TS
