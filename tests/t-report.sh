# crm-report: every KPI on small hand-made data whose answers are worked
# out below by hand, the same data through the store and as rows, time
# series, cohorts, -e, the formats, empty stores and periods ("no data",
# never NaN), bad rows, config and usage; and the KPIs of a generated data
# set against an independent computation in sqlite3.

have_sqlite=
command -v sqlite3 >/dev/null 2>&1 && have_sqlite=1

# The period is January 2025: --since 2025-01-01 --until 2025-01-31 (a
# date as --until means the end of that day).
P='--as-of 2025-02-01 --since 2025-01-01 --until 2025-01-31'

cat >contacts.csv <<'EOF'
id,email,stage,created_at
1,a@x.com,customer,2024-06-01
2,b@x.com,customer,2025-01-05
3,c@x.com,lead,2025-01-10
4,d@x.com,prospect,2025-01-20
5,e@x.com,churned,2023-01-01
6,f@x.com,lead,2025-03-01
EOF

cat >events.csv <<'EOF'
email,ts,type,amount,campaign,deal_id,stage,case_id,metric,score
a@x.com,2024-06-10,purchase,100.00,,,,,,
a@x.com,2025-01-15,purchase,50.00,,,,,,
a@x.com,2025-01-20,refund,10.00,,,,,,
b@x.com,2025-01-06,purchase,30.00,,,,,,
b@x.com,2025-01-25,purchase,20.00,,,,,,
c@x.com,2025-01-12,survey,,,,,,nps,9
c@x.com,2025-01-12,survey,,,,,,csat,5
d@x.com,2025-01-21,survey,,,,,,nps,3
d@x.com,2025-01-22,survey,,,,,,csat,2
d@x.com,2025-01-21T00:00:00Z,ticket_open,,,,,1,,
d@x.com,2025-01-21T10:00:00Z,ticket_close,,,,,1,,
d@x.com,2025-01-22T00:00:00Z,ticket_open,,,,,2,,
d@x.com,2025-01-23T00:00:00Z,ticket_close,,,,,2,,
e@x.com,2023-06-01,purchase,40.00,,,,,,
a@x.com,2025-01-02,deal,1000,,D1,proposal,,,
a@x.com,2025-01-20,deal,,,D1,won,,,
b@x.com,2025-01-10,deal,500,,D2,qualified,,,
c@x.com,2025-01-11,deal,200,,D3,proposal,,,
c@x.com,2025-01-30,deal,,,D3,lost,,,
a@x.com,2025-01-03,email_sent,,spring,,,,,
b@x.com,2025-01-03,email_sent,,spring,,,,,
c@x.com,2025-01-03,email_sent,,spring,,,,,
d@x.com,2025-01-03,email_sent,,spring,,,,,
a@x.com,2025-01-04,email_open,,spring,,,,,
a@x.com,2025-01-05,email_open,,spring,,,,,
b@x.com,2025-01-04,email_open,,spring,,,,,
a@x.com,2025-01-04,email_click,,spring,,,,,
d@x.com,2025-01-05,unsubscribe,,spring,,,,,
EOF

# The answers, worked out by hand for January 2025:
# contacts: 1-5 exist by its end (6 is created in March); new: 2, 3, 4.
# customers: a, b, e have bought by its end; new: b; active: a, b.
# orders: a 1, b 2; revenue 50 + 30 + 20 - 10 = 90; AOV (50+30+20)/3;
# per active customer 90/2. Repeat: a and b of 3 customers have two
# purchases. Retention, window 365 days: S (bought 2024-01-01..2024-12-31)
# = {a}, E (2024-02-01..2025-01-31) = {a, b}, N = {b}: (2-1)/1. CLV:
# (140 + 50 + 40) / 3. Conversion: of the new contacts 2, 3, 4 only 2
# bought. NPS: a 9 and a 3 = (1-1)/2; CSAT 5 and 2: one of two. Cases:
# 10 h and 24 h. Deals: D1 won, D3 lost, D2 open in qualified (0.25).
cat >want <<'EOF'
contacts 5
new_contacts 3
customers 3
new_customers 1
active_customers 2
orders 3
revenue 90.00
aov 33.33
revenue_per_customer 45.00
repeat_purchase_rate 66.67
retention_rate 100.00
churn_rate 0.00
historical_clv 76.67
lead_conversion_rate 33.33
nps 0.00
nps_responses 2
csat 50.00
csat_responses 2
cases_opened 2
cases_closed 2
resolution_mean_h 17.00
resolution_median_h 17.00
open_deals 1
pipeline_value 500.00
weighted_pipeline_value 125.00
deals_won 1
deals_lost 1
win_rate 50.00
contacts_by_stage/customer 2
contacts_by_stage/lead 1
contacts_by_stage/prospect 1
contacts_by_stage/churned 1
campaign_sent/spring 4
campaign_opened/spring 2
campaign_clicked/spring 1
campaign_unsubscribed/spring 1
campaign_open_rate/spring 50.00
campaign_click_rate/spring 25.00
campaign_unsubscribe_rate/spring 25.00
open_deals_by_stage/qualified 1
pipeline_value_by_stage/qualified 500.00
weighted_value_by_stage/qualified 125.00
EOF

# kpi FILE NAME[/KEY]: the value of a KPI in a CSV report (its period row).
kpi() {
	awk -F, -v want="$2" 'NR > 1 { k = $3; if ($4 != "") k = k "/" $4
	    if (k == want) { print $5; exit } }' "$1"
}

# check_kpis PREFIX FILE: every KPI of want, each its own assertion.
check_kpis() {
	while read -r name value; do
		check_eq "$1-$name" "$value" "$(kpi "$2" "$name")"
	done <want
}

## Rows, no store.
run crm-report -F csv $P contacts.csv events.csv
check_eq rows-exit 0 "$RC"
cp "$OUT" rows.csv
check_kpis rows rows.csv
check_eq rows-header 'from,to,kpi,key,value' "$(head -n 1 rows.csv)"
check_eq rows-period '2025-01-01T00:00:00Z,2025-02-01T00:00:00Z' \
    "$(sed -n 2p rows.csv | cut -d, -f1,2)"

## The same data through the store gives the same report.
crm-add -q contacts.csv >/dev/null 2>&1
crm-log -q events.csv >/dev/null 2>&1
run crm-report -F csv $P </dev/null
check_eq store-exit 0 "$RC"
cp "$OUT" store.csv
check_kpis store store.csv
if cmp -s rows.csv store.csv; then ok store-same-as-rows; else
	fail store-same-as-rows "$(diff rows.csv store.csv | head -n 4)"; fi

# Several reading threads share the contacts out and merge their counts.
for j in 2 3 4; do
	run crm-report -F csv --by week -j $j $P </dev/null
	crm-report -F csv --by week -j 1 $P </dev/null >j1.csv 2>&1
	if cmp -s j1.csv "$OUT"; then ok "store-jobs-$j"; else
		fail "store-jobs-$j" "$(diff j1.csv "$OUT" | head -n 4)"; fi
done
run crm-report cohorts -F csv -j 3 --as-of 2025-02-01 --since 2024-06-01 </dev/null
check_eq store-jobs-cohorts '2024-06,1,7,1,100.00' "$(grep '^2024-06,1,7,' "$OUT")"
check_exit 64 bad-jobs crm-report -j 9 $P

## Rows on standard input: a pipe that brings rows is read, not the store.
cat contacts.csv | crm-report -F csv $P >stdin.csv 2>&1
check_eq stdin-contacts-only 3 "$(kpi stdin.csv new_contacts)"
check_eq stdin-no-events 0 "$(kpi stdin.csv orders)"
cat events.csv | crm-report -F csv $P - >stdin2.csv 2>&1
check_eq stdin-dash-events 3 "$(kpi stdin2.csv orders)"
# events only: contacts are who the events name, created at their first
check_eq events-only-contacts 5 "$(kpi stdin2.csv contacts)"

## NDJSON: the same rows as objects, null where a value has no meaning.
run crm-report -F ndjson $P contacts.csv events.csv
check_match ndjson-revenue '^\{"from":"2025-01-01T00:00:00Z","to":"2025-02-01T00:00:00Z","kpi":"revenue","key":"","value":90.00\}$' \
    "$(grep '"revenue"' "$OUT")"
run crm-report -F ndjson --as-of 2025-02-01 --since 2024-12-01 --until 2024-12-31 \
    contacts.csv events.csv
check_match ndjson-null '"kpi":"nps","key":"","value":null' "$(grep '"nps"' "$OUT")"

## An empty period and a period with no surveys: no data, never NaN.
run crm-report $P --since 2024-12-01 --until 2024-12-31 contacts.csv events.csv
check_eq empty-period-exit 0 "$RC"
check_match empty-period-nps '^  NPS +no data$' "$(grep '^  NPS ' "$OUT")"
check_match empty-period-aov '^  average order value +no data$' \
    "$(grep 'average order value' "$OUT")"
check_no_nan() {
	if grep -Eiq 'nan|inf' "$2"; then
		fail "$1" "$(grep -Ei 'nan|inf' "$2" | head -n 1)"
	else
		ok "$1"
	fi
}
check_no_nan empty-period-no-nan "$OUT"
run crm-report -F csv $P --since 2024-12-01 --until 2024-12-31 contacts.csv events.csv
check_eq empty-period-csv-nps '' "$(kpi "$OUT" nps)"
check_eq empty-period-csv-orders 0 "$(kpi "$OUT" orders)"
check_no_nan empty-period-csv-no-nan "$OUT"

## An empty store, a missing store.
mkdir -p empty
CRM_DB=$PWD/empty/db crm-add -q </dev/null >/dev/null 2>&1
run env CRM_DB="$PWD/empty/db" "$BIN/crm-report" $P </dev/null
check_eq empty-store-exit 0 "$RC"
check_match empty-store-no-data 'no data' "$(cat "$OUT")"
run env CRM_DB="$PWD/empty/db" "$BIN/crm-report" -F html $P </dev/null
check_no_nan empty-store-html-no-nan "$OUT"
check_eq empty-store-html-charts 4 "$(grep -c '<svg id=' "$OUT")"
check_exit 66 missing-store crm-report -D "$PWD/nowhere" $P
check_err missing-store-msg 'nowhere'

## Time series: weeks from Monday, cut to the period; the buckets add up.
run crm-report -F csv --by week $P contacts.csv events.csv
# series KPI: the time series' values of a KPI (not the period's row)
series() {
	awk -F, -v k="$1" -v col="${2:-5}" '$3 == k && !($1 == "2025-01-01T00:00:00Z" &&
	    $2 == "2025-02-01T00:00:00Z") { printf "%s%s", sep, $col; sep = " " }
	    END { print "" }' "$OUT"
}
check_eq by-week-buckets '2025-01-01T00:00:00Z 2025-01-06T00:00:00Z 2025-01-13T00:00:00Z 2025-01-20T00:00:00Z 2025-01-27T00:00:00Z' \
    "$(series orders 1)"
check_eq by-week-last-end 2025-02-01T00:00:00Z "$(series orders 2 | awk '{ print $NF }')"
check_eq by-week-orders '0 1 1 1 0' "$(series orders)"
check_eq by-week-new-contacts '1 1 0 1 0' "$(series new_contacts)"
check_eq by-week-contacts '3 4 4 5 5' "$(series contacts)"
check_eq by-week-clv '70.00 56.67 73.33 76.67 76.67' "$(series historical_clv)"
# open deals at each week's end: D1; D1 D2 D3; D1 D2 D3; D2 D3; D2
check_eq by-week-open-deals '1 3 3 2 1' "$(series open_deals)"
check_eq by-week-nps ' 100.00  -100.00 ' "$(series nps)"
run crm-report --by month --as-of 2025-02-01 contacts.csv events.csv
check_eq by-month-exit 0 "$RC"
check_match by-month-labels '2024-12 +2025-01 +period' "$(grep -m1 trend "$OUT")"
check_match by-month-sparkline 'revenue +[▁▂▃▄▅▆▇█ ]+ ' "$(grep '^  revenue ' "$OUT")"

## Cohorts: a's first purchase is in June 2024, b's in January 2025.
run crm-report cohorts -F csv --as-of 2025-02-01 --since 2024-06-01 contacts.csv events.csv
check_eq cohorts-header 'cohort,size,months_since,customers,share' "$(head -n 1 "$OUT")"
check_eq cohorts-june '2024-06,1,0,1,100.00 2024-06,1,6,0,0.00 2024-06,1,7,1,100.00' \
    "$(grep -E '^2024-06,1,(0|6|7),' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
check_eq cohorts-jan '2025-01,1,0,1,100.00' "$(grep '^2025-01' "$OUT")"
check_eq cohorts-empty-share '2024-07,0,0,0,' "$(grep '^2024-07,0,0,' "$OUT")"
run crm-report cohorts --as-of 2025-02-01 --since 2024-06-01 contacts.csv events.csv
check_match cohorts-table '^2024-06 +1 +100.00 +0.00' "$(grep '^2024-06' "$OUT")"

## -e: the contacts an expression selects, and only their events.
run crm-report -F csv -e 'stage == "customer"' $P contacts.csv events.csv
check_eq expr-contacts 2 "$(kpi "$OUT" contacts)"
check_eq expr-revenue 90.00 "$(kpi "$OUT" revenue)"
check_eq expr-nps '' "$(kpi "$OUT" nps)"
run crm-report -F csv -e 'stage == "customer"' $P </dev/null
check_eq expr-store-contacts 2 "$(kpi "$OUT" contacts)"
check_eq expr-store-won 1 "$(kpi "$OUT" deals_won)"
run crm-report -F csv -e 'revenue > 100' $P </dev/null
check_eq expr-store-statistics 1 "$(kpi "$OUT" contacts)"
check_exit 64 expr-bad crm-report -e 'stage ==' $P contacts.csv
check_err expr-bad-caret '\^'

## Markdown and HTML.
run crm-report -F md $P contacts.csv events.csv
check_match md-revenue '^\| revenue \| 90.00 \|$' "$(grep '^| revenue ' "$OUT")"
check_match md-campaign '^\| spring \| 4 \| 50.00 \| 25.00 \| 25.00 \|$' "$(grep '^| spring' "$OUT")"
run crm-report -F html -o report.html $P contacts.csv events.csv
check_eq html-exit 0 "$RC"
check_eq html-charts 'active cohorts funnel revenue' \
    "$(grep -o '<svg id="[a-z]*"' report.html | sed 's/.*"\(.*\)"/\1/' | sort | tr '\n' ' ' | sed 's/ $//')"
check_match html-doctype '^<!DOCTYPE html>' "$(head -n 1 report.html)"
check_eq html-offline 0 "$(grep -Ec '(src|href)="?https?:' report.html)"
# the RFM grid appears when the rows carry crm-score's r_score and f_score
printf 'id,email,r_score,f_score\n1,a@x.com,5,4\n2,b@x.com,5,4\n3,c@x.com,1,1\n' >rfm.csv
run crm-report -F html $P rfm.csv
check_match html-rfm '<svg id="rfm"' "$(cat "$OUT")"
check_match html-rfm-cell '>2</text>' "$(grep -A1 'x="270" y="60"' "$OUT" | tail -n 1)"
# names from the data are escaped
printf 'email,ts,type,campaign\na@x.com,2025-01-03,email_sent,<b>&\n' >esc.csv
run crm-report -F html $P esc.csv
check_match html-escaped '&lt;b&gt;&amp;' "$(cat "$OUT")"

## Deal stage probabilities from the config.
cat >cfg.yaml <<'EOF'
report:
  active_days: 30
  deal_stages:
    qualified: 60%
    proposal: 0.5
EOF
run crm-report -F csv -c cfg.yaml $P contacts.csv events.csv
check_eq config-weighted 300.00 "$(kpi "$OUT" weighted_pipeline_value)"
# with a 30-day window nobody was a customer at the start of January
check_eq config-window '' "$(kpi "$OUT" retention_rate)"
printf 'report:\n  deal_stages:\n    qualified: lots\n' >bad.yaml
check_exit 78 config-bad crm-report -c bad.yaml $P contacts.csv
check_err config-bad-line 'bad.yaml:3'

## Bad rows: named by file and line; nothing reported unless --skip-bad.
printf 'email,ts,type,amount\na@x.com,2025-01-05,purchase,12.50\na@x.com,yesterday,purchase,1\nb@x.com,2025-01-06,purchase,ten\n' >bad.csv
run crm-report $P bad.csv
check_eq bad-exit 65 "$RC"
check_err bad-ts 'bad.csv:3: column "ts": not a time'
check_err bad-amount 'bad.csv:4: column "amount": not an amount'
check_empty bad-no-report "$OUT"
run crm-report -F csv --skip-bad $P bad.csv
check_eq skip-bad-exit 65 "$RC"
check_eq skip-bad-revenue 12.50 "$(kpi "$OUT" revenue)"
printf 'email,ts,type,metric,score\na@x.com,2025-01-05,survey,nps,11\n' >badnps.csv
run crm-report $P badnps.csv
check_err bad-nps 'badnps.csv:2: column "score": a whole number from 0 to 10'

## Usage.
check_exit 0 help crm-report -h
check_match help-synopsis '^usage: crm-report' "$(head -n 1 "$OUT")"
check_exit 0 version crm-report --version
check_exit 64 bad-format crm-report -F pdf
check_exit 64 bad-by crm-report --by year
check_exit 64 bad-period crm-report --since 2025-02-01 --until 2025-01-01
check_exit 64 bad-time crm-report --since soon
check_exit 64 cohorts-by crm-report cohorts --by week
check_exit 66 missing-file crm-report nosuch.csv
check_exit 0 front crm report --version

## A generated data set against sqlite3: the same KPIs in SQL.
if [ -z "$have_sqlite" ]; then
	skip sqlite "no sqlite3 (apt-get install sqlite3)"
else
	crm-gen contacts 3000 --dups 0 >gc.csv
	crm-gen events 30000 -c 3000 >ge0.csv
	# Surveys, cases and campaigns made from the generated rows: calls
	# become cases closed at the end of their day, visits NPS answers,
	# opens and clicks belong to the campaign of their month, and each
	# open follows a send of it.
	awk -F, 'BEGIN { OFS = "," }
	NR == 1 { print "email,ts,type,amount,campaign,case_id,metric,score"; next }
	{
		m = $3 ~ /^email_/ ? substr($2, 1, 7) : ""
		print $1, $2, $3, $4, m, "", "", ""
		if ($3 == "call") {
			print $1, $2, "ticket_open", "", "", "c" NR, "", ""
			print $1, substr($2, 1, 10) "T23:59:59Z", "ticket_close", "", "",
			    "c" NR, "", ""
		} else if ($3 == "visit")
			print $1, $2, "survey", "", "", "", "nps", NR % 11
		else if ($3 == "email_open")
			print $1, $2, "email_sent", "", m, "", "", ""
	}' ge0.csv >ge.csv
	S=2025-01-01T00:00:00Z
	U=2025-07-01T00:00:00Z
	run crm-report -F csv --since $S --as-of $U gc.csv ge.csv
	check_eq sqlite-report-exit 0 "$RC"
	cp "$OUT" gen.csv
	sqlite3 -bail -csv gen.db ".import gc.csv c" ".import ge.csv e" >/dev/null 2>&1
	sqlite3 -csv gen.db >sql.csv <<EOF
CREATE TABLE p AS SELECT lower(email) AS email, ts,
    row_number() OVER (PARTITION BY lower(email) ORDER BY ts) AS k
    FROM e WHERE type = 'purchase' AND ts < '$U';
CREATE TABLE f AS SELECT email, min(CASE WHEN k = 1 THEN ts END) AS first,
    min(CASE WHEN k = 2 THEN ts END) AS second,
    sum(ts >= '$S') AS inp,
    sum(ts >= strftime('%Y-%m-%dT%H:%M:%SZ', '$S', '-365 days') AND ts < '$S') AS atstart,
    sum(ts >= strftime('%Y-%m-%dT%H:%M:%SZ', '$U', '-365 days')) AS atend
    FROM p GROUP BY email;
CREATE TABLE v AS SELECT
    (SELECT count(*) FROM c WHERE created_at < '$U') AS contacts,
    (SELECT count(*) FROM c WHERE created_at >= '$S' AND created_at < '$U') AS new_contacts,
    (SELECT count(*) FROM f) AS customers,
    (SELECT count(*) FROM f WHERE first >= '$S') AS new_customers,
    (SELECT count(*) FROM f WHERE inp > 0) AS active,
    (SELECT count(*) FROM p WHERE ts >= '$S') AS orders,
    (SELECT sum(CASE type WHEN 'purchase' THEN CAST(round(amount * 100) AS INTEGER) ELSE -CAST(round(amount * 100) AS INTEGER) END)
        FROM e WHERE type IN ('purchase', 'refund') AND ts >= '$S' AND ts < '$U') AS rev_c,
    (SELECT sum(CAST(round(amount * 100) AS INTEGER)) FROM e WHERE type = 'purchase' AND ts >= '$S' AND ts < '$U') AS sales_c,
    (SELECT count(*) FROM f WHERE second IS NOT NULL) AS repeaters,
    (SELECT count(*) FROM f WHERE atstart > 0) AS s_cust,
    (SELECT count(*) FROM f WHERE atend > 0) AS e_cust,
    (SELECT sum(CASE type WHEN 'purchase' THEN CAST(round(amount * 100) AS INTEGER) ELSE -CAST(round(amount * 100) AS INTEGER) END)
        FROM e WHERE type IN ('purchase', 'refund') AND ts < '$U') AS life_c,
    (SELECT count(*) FROM c JOIN f ON lower(c.email) = f.email
        WHERE created_at >= '$S' AND created_at < '$U') AS converted,
    (SELECT count(*) FROM e WHERE type = 'survey' AND ts >= '$S' AND ts < '$U') AS nps_n,
    (SELECT sum(CAST(score AS INTEGER) >= 9) - sum(CAST(score AS INTEGER) <= 6) FROM e WHERE type = 'survey' AND ts >= '$S' AND ts < '$U') AS nps_net,
    (SELECT count(*) FROM e WHERE type = 'ticket_open' AND ts >= '$S' AND ts < '$U') AS opened,
    (SELECT count(*) FROM e WHERE type = 'ticket_close' AND ts >= '$S' AND ts < '$U') AS closed,
    (SELECT sum(strftime('%s', x.ts) - strftime('%s', o.ts)) FROM e x JOIN e o
        ON o.case_id = x.case_id AND o.type = 'ticket_open'
        WHERE x.type = 'ticket_close' AND x.ts >= '$S' AND x.ts < '$U') AS res_h,
    (SELECT count(*) FROM e WHERE type = 'email_sent' AND campaign = '2025-03' AND ts >= '$S' AND ts < '$U') AS sent_mar,
    (SELECT count(DISTINCT lower(email)) FROM e WHERE type = 'email_open' AND substr(ts, 1, 7) = '2025-03') AS open_mar;
-- money in cents, rounded half away from zero as crm-report rounds
SELECT 'contacts', contacts FROM v UNION ALL
SELECT 'new_contacts', new_contacts FROM v UNION ALL
SELECT 'customers', customers FROM v UNION ALL
SELECT 'new_customers', new_customers FROM v UNION ALL
SELECT 'active_customers', active FROM v UNION ALL
SELECT 'orders', orders FROM v UNION ALL
SELECT 'revenue', printf('%.2f', rev_c / 100.0) FROM v UNION ALL
SELECT 'aov', printf('%.2f', (sales_c + orders / 2) / orders / 100.0) FROM v UNION ALL
SELECT 'revenue_per_customer', printf('%.2f', (rev_c + active / 2) / active / 100.0) FROM v UNION ALL
SELECT 'repeat_purchase_rate', printf('%.2f', 100.0 * repeaters / customers) FROM v UNION ALL
SELECT 'retention_rate', printf('%.2f', 100.0 * (e_cust - new_customers) / s_cust) FROM v UNION ALL
SELECT 'historical_clv', printf('%.2f', (life_c + customers / 2) / customers / 100.0) FROM v UNION ALL
SELECT 'lead_conversion_rate', printf('%.2f', 100.0 * converted / new_contacts) FROM v UNION ALL
SELECT 'nps_responses', nps_n FROM v UNION ALL
SELECT 'nps', printf('%.2f', 100.0 * nps_net / nps_n) FROM v UNION ALL
SELECT 'cases_opened', opened FROM v UNION ALL
SELECT 'cases_closed', closed FROM v UNION ALL
SELECT 'resolution_mean_h', printf('%.2f', res_h * 1.0 / closed / 3600.0) FROM v UNION ALL
SELECT 'campaign_sent/2025-03', sent_mar FROM v UNION ALL
SELECT 'campaign_opened/2025-03', open_mar FROM v;
EOF
	check_eq sqlite-kpis 20 "$(wc -l <sql.csv)"
	while IFS=, read -r name value; do
		check_eq "sqlite-$name" "$value" "$(kpi gen.csv "$name")"
	done <sql.csv
	# and the same through a store
	mkdir -p gen
	CRM_DB=$PWD/gen/db crm-add -q gc.csv >/dev/null 2>&1
	CRM_DB=$PWD/gen/db crm-log -q ge.csv >/dev/null 2>&1
	run env CRM_DB="$PWD/gen/db" "$BIN/crm-report" -F csv --since $S --as-of $U </dev/null
	if cmp -s gen.csv "$OUT"; then ok sqlite-store-same; else
		fail sqlite-store-same "$(diff gen.csv "$OUT" | head -n 4)"; fi
fi

## The browser check of `make screenshot` catches a console error.
if ! command -v chromium >/dev/null 2>&1; then
	skip html-check "no chromium (apt-get install chromium)"
else
	printf '<!DOCTYPE html><html><body><script>console.error("boom")</script></body></html>\n' >bad.html
	run sh "$TESTDIR/../scripts/html-check" "$BIN" shot bad.html
	check_eq html-check-console-exit 1 "$RC"
	check_err html-check-console-msg '"boom"'
	check_err html-check-no-charts 'chart "revenue" missing'
fi
