# Sourced by scripts/start.sh and scripts/test.sh (after ensure-deps.sh): exports the variables of
# $TOPOLOGY (single by default, or cluster) for the services, the build and the platform. The one
# implementation is scripts/topology/topology.cjs; an unknown TOPOLOGY stops the script there.
topology_exports="$(node "$(dirname "${BASH_SOURCE[0]}")/topology.cjs" --exports)"
eval "$topology_exports"
unset topology_exports
