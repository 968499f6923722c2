# crm-score lead: field rules, event rules with half-life decay and caps,
# --explain, rows without a stored contact, and config errors naming the
# YAML line.

cs() { $CRM_TEST_WRAP "$BIN/crm-score" "$@"; }
NOW=2024-06-01T00:00:00Z

printf 'email,stage\na@example.com,customer\nb@example.com,lead\n' >c.csv
check_exit 0 setup-contacts crm-add -n --as-of 2024-01-01 c.csv
# a: two purchases exactly one half-life (30 days) old, 4 points each,
# decay to 2 + 2 = 4, capped at 3; one call, no decay, 3 points; one
# purchase after --as-of, not counted. b: an e-mail open only.
printf 'email,ts,type,amount\na@example.com,2024-05-02T00:00:00Z,purchase,1.00\na@example.com,2024-05-02T00:00:00Z,purchase,2.00\na@example.com,2024-01-01,call,\na@example.com,2024-07-01,purchase,3.00\nb@example.com,2024-05-31T00:00:00Z,email_open,\n' >e.csv
check_exit 0 setup-events crm-log e.csv

cat >lead.yaml <<'YAML'
lead:
  rules:
    - name: customer
      when: 'stage == "customer"'
      points: 10
    - name: any
      when: 'email is not empty'
      points: 0.5
  events:
    - type: purchase
      points: 4
      half_life: 30d
      cap: 3
    - type: call
      points: 3
    - type: email_open
      points: 2
      half_life: 1d
YAML

crm-export --fields id,email,stage >rows.csv
check_out lead-explain "id,email,stage,lead_score,lead_rules
1,a@example.com,customer,16.50,customer:10;any:0.5;purchase:3;call:3
2,b@example.com,lead,1.50,any:0.5;email_open:1" \
    cs lead -c lead.yaml --as-of $NOW --explain rows.csv
check_out lead-plain "id,email,stage,lead_score
1,a@example.com,customer,16.50
2,b@example.com,lead,1.50" cs lead -c lead.yaml --as-of $NOW rows.csv

# Without the cap the two decayed purchases give 2 + 2.
sed 's/cap: 3/cap: 100/' lead.yaml >nocap.yaml
check_out lead-decay "id,email,stage,lead_score
1,a@example.com,customer,17.50
2,b@example.com,lead,1.50" cs lead -c nocap.yaml --as-of $NOW rows.csv

# A later --as-of: the purchase of July counts too, all decayed further.
check_match lead-as-of-later '^1,a@example.com,customer,16.50' \
    "$(cs lead -c lead.yaml --as-of 2024-07-01 rows.csv)"

# A row whose contact is not in the store gets field points only; rows are
# found by email when there is no id column.
printf 'email,stage\nnew@example.com,customer\na@example.com,customer\n' >other.csv
check_out lead-by-email "email,stage,lead_score
new@example.com,customer,10.50
a@example.com,customer,16.50" cs lead -c lead.yaml --as-of $NOW other.csv
check_out lead-tsv "$(printf 'email\tstage\tlead_score\nnew@example.com\tcustomer\t10.50')" \
    sh -c 'head -2 other.csv | tr , "\t" | "$0" lead -F tsv -c lead.yaml --as-of '$NOW "$BIN/crm-score"

# Config errors name the file and line; a bad expression shows a caret.
printf 'lead:\n  rules:\n    - when: stage == "x"\n' >nopoints.yaml
check_exit 78 bad-no-points cs lead -c nopoints.yaml rows.csv
check_err bad-no-points-msg '^crm-score: nopoints.yaml:3: a lead rule needs points'
printf 'lead:\n  events:\n    - type: call\n      points: 1\n      half_life: soon\n' >badhl.yaml
check_exit 78 bad-half-life cs lead -c badhl.yaml rows.csv
check_err bad-half-life-msg 'badhl.yaml:5: half_life is a duration'
printf 'lead:\n  rules:\n    - when: stage == "x\n      points: 1\n' >badexpr.yaml
check_exit 78 bad-expr cs lead -c badexpr.yaml rows.csv
check_err bad-expr-caret '^ +\^$'
printf 'lead:\n  rules:\n    - when: nosuchcolumn == 1\n      points: 1\n' >badcol.yaml
check_exit 78 bad-column cs lead -c badcol.yaml rows.csv
check_err bad-column-msg 'badcol.yaml:3: lead rule'
printf 'stages: [lead]\n' >nolead.yaml
check_exit 78 no-lead-section cs lead -c nolead.yaml rows.csv
check_err no-lead-section-msg 'no lead section'
check_exit 64 bad-format cs lead -F ndjson -c lead.yaml rows.csv
check_exit 0 lead-help cs lead --help
check_match lead-help-out '^usage: crm-score lead' "$(cat "$OUT")"
check_exit 0 lead-help-short cs lead -h

# Negative points (an unsubscribe) lower the score; unnamed rules are
# named by their place; the pipeline of crm-score(1)'s example works.
printf 'email,ts,type\nb@example.com,2024-05-31T00:00:00Z,unsubscribe\n' >u.csv
check_exit 0 setup-unsub crm-log u.csv
cat >neg.yaml <<'YAML'
lead:
  rules:
    - when: 'stage == "lead"'
      points: 10
  events:
    - type: unsubscribe
      points: -4
YAML
check_out lead-negative "id,email,stage,lead_score,lead_rules
2,b@example.com,lead,6.00,rule1:10;unsubscribe:-4" \
    sh -c "\"\$0\" --fields id,email,stage | \"\$1\" -e 'stage == \"lead\"' | \"\$2\" lead -c neg.yaml --as-of $NOW --explain" \
    "$BIN/crm-export" "$BIN/crm-segment" "$BIN/crm-score"
