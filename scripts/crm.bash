# Bash completion for crm(1), crm-add(1), crm-export(1), crm-log(1),
# crm-score(1), crm-segment(1), crm-report(1), crm-show(1), crm-merge(1),
# crm-forget(1) and crm-audit(1).
#
# Install as $(pkg-config --variable=completionsdir bash-completion)/crm with
# links crm-add and crm-export to it, so that bash-completion loads it for any
# of the three names; or source it from ~/.bashrc.  It does not need the
# bash-completion package.

_crm_columns='id email first_name last_name phone company title city country
source stage owner tags email_opt_in consent_at consent_source created_at
updated_at ext_id first_seen_at last_seen_at events first_purchase_at
last_purchase_at purchases purchase_days revenue'

_crm_types='purchase refund email call meeting note visit email_sent email_open
email_click subscribe unsubscribe survey ticket_open ticket_close deal'

# _crm_reply prefix word...: offer the words that start with $cur, each
# preceded by prefix (the "--opt=" of an unsplit "--opt=value").
_crm_reply() {
	local prefix=$1 w
	shift
	COMPREPLY=()
	for w in "$@"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$prefix$w")
	done
}

# _crm_nospace: after a lone "--opt=", let the value follow without a space.
_crm_nospace() {
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *= ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

_crm_files() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	COMPREPLY=("${COMPREPLY[@]/#/$eq}")
}

_crm_dirs() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	COMPREPLY=("${COMPREPLY[@]/#/$eq}")
}

# _crm_words index: set cur, prev and eq from the words from index on.
# Bash splits "--opt=value" at the equals sign (COMP_WORDBREAKS); join the
# pieces again so that the option and its value can be seen.
_crm_words() {
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	eq=
	((COMP_CWORD > $1)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == = ]]; then
		cur=
		eq='='
	elif [[ $prev == = ]] && ((COMP_CWORD - 2 >= $1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		eq=$prev=
		cur=${cur#*=}
	fi
}

# _crm_fields: complete the last name of a comma-separated column list.
_crm_fields() {
	local head='' w
	if [[ $cur == *,* ]]; then
		head=${cur%,*},
		cur=${cur##*,}
	fi
	COMPREPLY=()
	for w in $_crm_columns; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$eq$head$w")
	done
	compopt -o nospace 2>/dev/null
}

_crm_add_args() {
	case $prev in
	-c | --config | -o | --output | -r | --reject)
		_crm_files
		return 0
		;;
	-D | --db)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" csv tsv ndjson yaml
		return 0
		;;
	-m | --mapping)
		_crm_reply "$eq" mailchimp
		return 0
		;;
	--stage)
		_crm_reply "$eq" lead prospect customer churned
		return 0
		;;
	--map | --as-of | --batch | --email | --id | --ext-id | --first-name | \
		--last-name | --phone | --company | --title | --city | --country | \
		--source | --owner | --tag | --untag | --consent-source | --set)
		COMPREPLY=()
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_crm_reply '' -c -D -F -h -m -n -o -q -r -v \
			--as-of= --batch= --city= --company= --config= \
			--consent-source= --country= --db= --email= --ext-id= \
			--first-name= --format= --help --id= --last-name= --map= \
			--mapping= --no-output --no-wait --opt-in --opt-out \
			--output= --owner= --phone= --quiet --reject= --set= \
			--source= --stage= --tag= --title= --untag= --verbose \
			--version
		_crm_nospace
		return 0
	fi
	_crm_files
}

_crm_export_args() {
	case $prev in
	-c | --config | -o | --output)
		_crm_files
		return 0
		;;
	-D | --db)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" csv tsv ndjson
		return 0
		;;
	--fields)
		_crm_fields
		return 0
		;;
	--type)
		_crm_reply "$eq" $_crm_types
		return 0
		;;
	--id | --email | --since | --until | --subject)
		COMPREPLY=()
		return 0
		;;
	esac
	# crm-export takes no operands: offer the options.
	_crm_reply '' -c -D -F -h -o --config= --db= --email= --events \
		--fields= --format= --help --id= --output= --since= --spreadsheet \
		--subject= --type= --until= --version
	_crm_nospace
	return 0
}

# crm-log: -c is the contact here, the configuration is --config.
_crm_log_args() {
	case $prev in
	--config | -r | --reject)
		_crm_files
		return 0
		;;
	-D | --db)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" csv tsv ndjson
		return 0
		;;
	-t | --type)
		_crm_reply "$eq" $_crm_types
		return 0
		;;
	-c | --contact | --as-of | --ts | --subject | --note | --amount | \
		--ext-id | --channel | --campaign | --source | --set | --key)
		COMPREPLY=()
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_crm_reply '' -c -D -F -h -q -r -t -v --amount= --as-of= \
			--campaign= --channel= --config= --contact= --create --db= \
			--ext-id= --format= --help --key= --no-wait --note= \
			--quiet --reject= --set= --source= --subject= --ts= \
			--type= --verbose --version
		_crm_nospace
		return 0
	fi
	_crm_files
}

_crm_show_args() {
	case $prev in
	-c | --config)
		_crm_files
		return 0
		;;
	-D | --db)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" text json
		return 0
		;;
	-n)
		COMPREPLY=()
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_crm_reply '' -c -D -F -h -n --config= --db= --format= --help \
			--version
		_crm_nospace
		return 0
	fi
	# The operand is a contact's id or e-mail address.
	COMPREPLY=()
}

_crm_score_args() {
	case $prev in
	-c | --config | -o | --output | --params | --use-params)
		_crm_files
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" csv tsv ndjson
		return 0
		;;
	--unit)
		_crm_reply "$eq" week day
		return 0
		;;
	--as-of | --discount | --horizon | -j | --jobs | --key)
		COMPREPLY=()
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_crm_reply '' -c -F -h -j -o -q --as-of= --config= --discount= \
			--events --format= --help --horizon= --jobs= --key= \
			--output= --params= --quiet --skip-bad --unit= \
			--use-params= --version
		_crm_nospace
		return 0
	fi
	# The first operand is the score, the others are files.
	local w
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		[[ $w == rfm || $w == clv ]] && { _crm_files; return 0; }
	done
	_crm_reply '' rfm clv
}

_crm_segment_args() {
	case $prev in
	-c | --config | -o | --output)
		_crm_files
		return 0
		;;
	--split)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" csv tsv ndjson
		return 0
		;;
	-e | --expr | -s | --segment | --as-of | --default)
		COMPREPLY=()
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_crm_reply '' -c -e -F -h -o -q -s -v --as-of= --campaign \
			--config= --count --default= --expr= --format= --help \
			--invert --label --label= --output= --quiet --segment= \
			--split= --version
		_crm_nospace
		return 0
	fi
	_crm_files
}

_crm_report_args() {
	case $prev in
	-c | --config | -o | --output)
		_crm_files
		return 0
		;;
	-D | --db)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" table csv ndjson md html
		return 0
		;;
	--by)
		_crm_reply "$eq" day week month quarter
		return 0
		;;
	--in)
		_crm_reply "$eq" csv tsv ndjson
		return 0
		;;
	-e | --expr | --as-of | --since | --until)
		COMPREPLY=()
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_crm_reply '' -c -D -e -F -h -o --as-of= --by= --config= --db= \
			--expr= --format= --help --in= --output= --since= \
			--skip-bad --until= --version
		_crm_nospace
		return 0
	fi
	# "cohorts" may come first; the other operands are files of rows.
	if ((COMP_CWORD == 1)) || [[ ${COMP_WORDS[1]} == report && COMP_CWORD == 2 ]]; then
		_crm_files
		[[ cohorts == "$cur"* ]] && COMPREPLY+=(cohorts)
		return 0
	fi
	_crm_files
}

_crm_report() {
	local cur prev eq
	_crm_words 1
	_crm_report_args
}

_crm_segment() {
	local cur prev eq
	_crm_words 1
	_crm_segment_args
}

_crm_score() {
	local cur prev eq
	_crm_words 1
	_crm_score_args
}

_crm_add() {
	local cur prev eq
	_crm_words 1
	_crm_add_args
}

_crm_log() {
	local cur prev eq
	_crm_words 1
	_crm_log_args
}

_crm_check_args() {
	case $prev in
	-D | --db)
		_crm_dirs
		return 0
		;;
	esac
	_crm_reply '' -D -h -q --db= --help --quiet --version
	_crm_nospace
}

_crm_check() {
	local cur prev eq
	_crm_words 1
	_crm_check_args
}

_crm_show() {
	local cur prev eq
	_crm_words 1
	_crm_show_args
}

_crm_export() {
	local cur prev eq
	_crm_words 1
	_crm_export_args
}

# The data hygiene tools: crm-merge, crm-forget, crm-audit.
_crm_hygiene_args() {
	case $prev in
	-c | --config | -o | --output)
		_crm_files
		return 0
		;;
	-D | --db)
		_crm_dirs
		return 0
		;;
	-F | --format)
		_crm_reply "$eq" csv tsv ndjson
		return 0
		;;
	--as-of | --id | --inactive-since | --op | --since | --threshold | \
		-t | --tool | --until | --user)
		COMPREPLY=()
		return 0
		;;
	esac
	case $1 in
	merge) _crm_reply '' -c -D -h -o -t -v --as-of= --config= --db= \
		--help --no-wait --output= --threshold= --verbose --version ;;
	forget) _crm_reply '' -c -D -h -n -v --config= --db= --dry-run \
		--help --inactive-since= --no-wait --scrub --verbose --version ;;
	audit) _crm_reply '' -D -F -h -o --db= --format= --help --id= \
		--op= --output= --since= --tool= --until= --user= --version ;;
	esac
	[[ $cur == -* || $1 == audit ]] || _crm_files
	_crm_nospace
	return 0
}

_crm_merge() {
	local cur prev eq
	_crm_words 1
	_crm_hygiene_args merge
}

_crm_forget() {
	local cur prev eq
	_crm_words 1
	_crm_hygiene_args forget
}

_crm_audit() {
	local cur prev eq
	_crm_words 1
	_crm_hygiene_args audit
}

_crm() {
	local cur prev eq tool=${COMP_WORDS[1]}
	if ((COMP_CWORD == 1)); then
		_crm_words 1
		_crm_reply '' add audit check export forget log merge report show \
			help -h --help --version
		return 0
	fi
	_crm_words 2
	case $tool in
	add) _crm_add_args ;;
	check) _crm_check_args ;;
	export) _crm_export_args ;;
	log) _crm_log_args ;;
	show) _crm_show_args ;;
	score) _crm_score_args ;;
	segment) _crm_segment_args ;;
	report) _crm_report_args ;;
	merge | forget | audit) _crm_hygiene_args "$tool" ;;
	help)
		((COMP_CWORD == 2)) && _crm_reply '' add check export log show
		;;
	esac
	return 0
}

complete -F _crm crm
complete -F _crm_add crm-add
complete -F _crm_check crm-check
complete -F _crm_export crm-export
complete -F _crm_log crm-log
complete -F _crm_show crm-show
complete -F _crm_score crm-score
complete -F _crm_segment crm-segment
complete -F _crm_report crm-report
complete -F _crm_merge crm-merge
complete -F _crm_forget crm-forget
complete -F _crm_audit crm-audit
