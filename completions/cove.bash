#!/bin/bash

__cove_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__cove_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__cove_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__cove_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_cove() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __cove_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    run|create|start|stop|restart|kill|rm|ps|logs|inspect|wait|exec|rename|top|port|cp|container|pull|login|logout|images|tag|rmi|load|save|import|image|info|doctor|volume|help)
        # Offer subcommand argument completions
        "_cove_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'run create start stop restart kill rm ps logs inspect wait exec rename top port cp container pull login logout images tag rmi load save import image info doctor volume help' -- "${cur}"))
        ;;
    esac
}

_cove_run() {
    repeating_flags=()
    non_repeating_flags=(--detach -d --interactive -i --tty -t --rm --privileged --read-only --init --version -h --help)
    repeating_options=(--env -e --env-file --volume -v --mount --tmpfs --publish -p --cap-add --cap-drop --security-opt -l --label --log-opt)
    non_repeating_options=(--name --workdir -w --user -u --entrypoint --hostname --network --net --read-only-tmpfs --userns --stop-signal --stop-timeout --pull -m --memory --cpus --pids-limit --root --platform --tls-verify)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--name')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--env-file')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '--entrypoint')
        return
        ;;
    '--hostname')
        return
        ;;
    '--volume'|'-v')
        return
        ;;
    '--mount')
        return
        ;;
    '--tmpfs')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--network'|'--net')
        return
        ;;
    '--cap-add')
        return
        ;;
    '--cap-drop')
        return
        ;;
    '--read-only-tmpfs')
        return
        ;;
    '--security-opt')
        return
        ;;
    '--userns')
        return
        ;;
    '--stop-signal')
        return
        ;;
    '--stop-timeout')
        return
        ;;
    '-l'|'--label')
        return
        ;;
    '--pull')
        return
        ;;
    '-m'|'--memory')
        return
        ;;
    '--cpus')
        return
        ;;
    '--pids-limit')
        return
        ;;
    '--root')
        return
        ;;
    '--log-opt')
        return
        ;;
    '--platform')
        return
        ;;
    '--tls-verify')
        return
        ;;
    esac
}

_cove_create() {
    repeating_flags=()
    non_repeating_flags=(--detach -d --interactive -i --tty -t --rm --privileged --read-only --init --version -h --help)
    repeating_options=(--env -e --env-file --volume -v --mount --tmpfs --publish -p --cap-add --cap-drop --security-opt -l --label --log-opt)
    non_repeating_options=(--name --workdir -w --user -u --entrypoint --hostname --network --net --read-only-tmpfs --userns --stop-signal --stop-timeout --pull -m --memory --cpus --pids-limit --root --platform --tls-verify)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--name')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--env-file')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '--entrypoint')
        return
        ;;
    '--hostname')
        return
        ;;
    '--volume'|'-v')
        return
        ;;
    '--mount')
        return
        ;;
    '--tmpfs')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--network'|'--net')
        return
        ;;
    '--cap-add')
        return
        ;;
    '--cap-drop')
        return
        ;;
    '--read-only-tmpfs')
        return
        ;;
    '--security-opt')
        return
        ;;
    '--userns')
        return
        ;;
    '--stop-signal')
        return
        ;;
    '--stop-timeout')
        return
        ;;
    '-l'|'--label')
        return
        ;;
    '--pull')
        return
        ;;
    '-m'|'--memory')
        return
        ;;
    '--cpus')
        return
        ;;
    '--pids-limit')
        return
        ;;
    '--root')
        return
        ;;
    '--log-opt')
        return
        ;;
    '--platform')
        return
        ;;
    '--tls-verify')
        return
        ;;
    esac
}

_cove_start() {
    repeating_flags=()
    non_repeating_flags=(--attach -a --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_stop() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-t --time)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-t'|'--time')
        return
        ;;
    esac
}

_cove_restart() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-t --time)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-t'|'--time')
        return
        ;;
    esac
}

_cove_kill() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--signal -s)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--signal'|'-s')
        return
        ;;
    esac
}

_cove_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f --volumes -v --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_ps() {
    repeating_flags=()
    non_repeating_flags=(--all -a --quiet -q --no-trunc --version -h --help)
    repeating_options=()
    non_repeating_options=(--format)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--format')
        return
        ;;
    esac
}

_cove_logs() {
    repeating_flags=()
    non_repeating_flags=(--follow -f --timestamps -t --version -h --help)
    repeating_options=()
    non_repeating_options=(--tail --since)
    __cove_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--tail')
        return
        ;;
    '--since')
        return
        ;;
    esac
}

_cove_inspect() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-f --format)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-f'|'--format')
        return
        ;;
    esac
}

_cove_wait() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_exec() {
    repeating_flags=()
    non_repeating_flags=(--detach -d --interactive -i --tty -t --privileged --version -h --help)
    repeating_options=(--env -e)
    non_repeating_options=(--workdir -w --user -u)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--env'|'-e')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    esac
}

_cove_rename() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 2
}

_cove_top() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_port() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 2
}

_cove_cp() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 2
}

_cove_container() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    run|create|start|stop|restart|kill|rm|ps|logs|inspect|wait|exec|rename|top|port|cp|prune)
        # Offer subcommand argument completions
        "_cove_container_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'run create start stop restart kill rm ps logs inspect wait exec rename top port cp prune' -- "${cur}"))
        ;;
    esac
}

_cove_container_run() {
    repeating_flags=()
    non_repeating_flags=(--detach -d --interactive -i --tty -t --rm --privileged --read-only --init --version -h --help)
    repeating_options=(--env -e --env-file --volume -v --mount --tmpfs --publish -p --cap-add --cap-drop --security-opt -l --label --log-opt)
    non_repeating_options=(--name --workdir -w --user -u --entrypoint --hostname --network --net --read-only-tmpfs --userns --stop-signal --stop-timeout --pull -m --memory --cpus --pids-limit --root --platform --tls-verify)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--name')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--env-file')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '--entrypoint')
        return
        ;;
    '--hostname')
        return
        ;;
    '--volume'|'-v')
        return
        ;;
    '--mount')
        return
        ;;
    '--tmpfs')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--network'|'--net')
        return
        ;;
    '--cap-add')
        return
        ;;
    '--cap-drop')
        return
        ;;
    '--read-only-tmpfs')
        return
        ;;
    '--security-opt')
        return
        ;;
    '--userns')
        return
        ;;
    '--stop-signal')
        return
        ;;
    '--stop-timeout')
        return
        ;;
    '-l'|'--label')
        return
        ;;
    '--pull')
        return
        ;;
    '-m'|'--memory')
        return
        ;;
    '--cpus')
        return
        ;;
    '--pids-limit')
        return
        ;;
    '--root')
        return
        ;;
    '--log-opt')
        return
        ;;
    '--platform')
        return
        ;;
    '--tls-verify')
        return
        ;;
    esac
}

_cove_container_create() {
    repeating_flags=()
    non_repeating_flags=(--detach -d --interactive -i --tty -t --rm --privileged --read-only --init --version -h --help)
    repeating_options=(--env -e --env-file --volume -v --mount --tmpfs --publish -p --cap-add --cap-drop --security-opt -l --label --log-opt)
    non_repeating_options=(--name --workdir -w --user -u --entrypoint --hostname --network --net --read-only-tmpfs --userns --stop-signal --stop-timeout --pull -m --memory --cpus --pids-limit --root --platform --tls-verify)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--name')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--env-file')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '--entrypoint')
        return
        ;;
    '--hostname')
        return
        ;;
    '--volume'|'-v')
        return
        ;;
    '--mount')
        return
        ;;
    '--tmpfs')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--network'|'--net')
        return
        ;;
    '--cap-add')
        return
        ;;
    '--cap-drop')
        return
        ;;
    '--read-only-tmpfs')
        return
        ;;
    '--security-opt')
        return
        ;;
    '--userns')
        return
        ;;
    '--stop-signal')
        return
        ;;
    '--stop-timeout')
        return
        ;;
    '-l'|'--label')
        return
        ;;
    '--pull')
        return
        ;;
    '-m'|'--memory')
        return
        ;;
    '--cpus')
        return
        ;;
    '--pids-limit')
        return
        ;;
    '--root')
        return
        ;;
    '--log-opt')
        return
        ;;
    '--platform')
        return
        ;;
    '--tls-verify')
        return
        ;;
    esac
}

_cove_container_start() {
    repeating_flags=()
    non_repeating_flags=(--attach -a --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_container_stop() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-t --time)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-t'|'--time')
        return
        ;;
    esac
}

_cove_container_restart() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-t --time)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-t'|'--time')
        return
        ;;
    esac
}

_cove_container_kill() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--signal -s)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--signal'|'-s')
        return
        ;;
    esac
}

_cove_container_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f --volumes -v --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_container_ps() {
    repeating_flags=()
    non_repeating_flags=(--all -a --quiet -q --no-trunc --version -h --help)
    repeating_options=()
    non_repeating_options=(--format)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--format')
        return
        ;;
    esac
}

_cove_container_logs() {
    repeating_flags=()
    non_repeating_flags=(--follow -f --timestamps -t --version -h --help)
    repeating_options=()
    non_repeating_options=(--tail --since)
    __cove_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--tail')
        return
        ;;
    '--since')
        return
        ;;
    esac
}

_cove_container_inspect() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(-f --format)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-f'|'--format')
        return
        ;;
    esac
}

_cove_container_wait() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_container_exec() {
    repeating_flags=()
    non_repeating_flags=(--detach -d --interactive -i --tty -t --privileged --version -h --help)
    repeating_options=(--env -e)
    non_repeating_options=(--workdir -w --user -u)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--env'|'-e')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    esac
}

_cove_container_rename() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 2
}

_cove_container_top() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

_cove_container_port() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 2
}

_cove_container_cp() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 2
}

_cove_container_prune() {
    repeating_flags=()
    non_repeating_flags=(--force -f --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 0
}

_cove_pull() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --version -h --help)
    repeating_options=()
    non_repeating_options=(--root --tls-verify --platform)
    __cove_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '--tls-verify')
        return
        ;;
    '--platform')
        return
        ;;
    esac
}

_cove_login() {
    repeating_flags=()
    non_repeating_flags=(--password-stdin --version -h --help)
    repeating_options=()
    non_repeating_options=(--tls-verify --username -u --password -p)
    __cove_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--tls-verify')
        return
        ;;
    '--username'|'-u')
        return
        ;;
    '--password'|'-p')
        return
        ;;
    esac
}

_cove_logout() {
    repeating_flags=()
    non_repeating_flags=(--all -a --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 1
}

_cove_images() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_tag() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_rmi() {
    repeating_flags=()
    non_repeating_flags=(--force -f --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_load() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root -i --input)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '-i'|'--input')
        return
        ;;
    esac
}

_cove_save() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root -o --output --format)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--format')
        return
        ;;
    esac
}

_cove_import() {
    repeating_flags=()
    non_repeating_flags=(-q --quiet --version -h --help)
    repeating_options=(-c --change)
    non_repeating_options=(--root -m --message)
    __cove_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    '-c'|'--change')
        return
        ;;
    '-m'|'--message')
        return
        ;;
    esac
}

_cove_image() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    inspect|prune)
        # Offer subcommand argument completions
        "_cove_image_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'inspect prune' -- "${cur}"))
        ;;
    esac
}

_cove_image_inspect() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_image_prune() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_info() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 0
}

_cove_doctor() {
    repeating_flags=()
    non_repeating_flags=(--quiet --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 0
}

_cove_volume() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|ls|inspect|rm|prune)
        # Offer subcommand argument completions
        "_cove_volume_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create ls inspect rm prune' -- "${cur}"))
        ;;
    esac
}

_cove_volume_create() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_volume_ls() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_volume_inspect() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_volume_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_volume_prune() {
    repeating_flags=()
    non_repeating_flags=(--force -f --version -h --help)
    repeating_options=()
    non_repeating_options=(--root)
    __cove_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--root')
        return
        ;;
    esac
}

_cove_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __cove_offer_flags_options -1
}

complete -o filenames -F _cove cove
