"""The floor: hand-written DuckDB SQL for the rules of the four policy documents that have rules.

``huiqi`` compiles every document's rules into one SQL query (``huiqi.compile.document``) that gives every
rule a status and an amount for every entity of a population. How much does that generality cost? The
floor answers it: the same rules written by hand, as an engineer who read the policy files would write
them, one query per document, with nothing generated from the policy files and nothing taken from the
project's compiler. ``bench/population.py`` times both on the same rows; the ratio is the compiler's
overhead.

Each query creates ``floor_<document id with - replaced by _>``: one row per entity in the document's
jurisdiction (``list_contains(region, <region>)``), ``_k`` and one column per rule (the rule id, ``-`` → ``_``;
``FLOOR_COLUMNS`` maps each ``provision/rule`` to its column): the amount in BIGINT fen when the rule's
conditions hold, NULL otherwise; a BOOLEAN for rules without an amount (``form: none``). Assessed year 2023,
evaluation date 2024-06-30, every reading at its default (docs/readings.md); rules that exist only under
another reading are not written.

What the floor keeps: the entity type each rule applies to, every condition, tiers (highest / each /
top_up, the latter two against the ledger), rates rounded half up to the fen in integer arithmetic
(``x·p/q`` → ``(2·p·x + q) // (2·q)`` for x > 0), ceilings, history (2023, 2022, the largest value before
2023, sums over the years since settling), a fact's catalogue default (``received_similar_gz_city_support``
is false when not given), 一次性 (once) rules against the ledger, cumulative and per-year caps and the
3-year duration limit.

What it leaves out, as a hand-coder would:

- no statuses: a missing fact makes a rule simply not apply (the compiled query says *needs information*;
  ``first_reached`` with no earlier year on file, a missing year in a sum, …), and a rule decided by
  officials (``review``) is reported like an eligible one;
- no 不重复享受 (exclusions): Suzhou 1/capital vs 2/new-firm and 5/digital-park vs 5/famous-park are both
  paid where both hold (the compiled query keeps the better combination and marks the other *excluded*);
- no explanation, no readings switch, no entity with an unknown region (the compiled query reaches those
  and answers *needs information*);
- a rate whose base is positive but rounds to 0 fen would be reported as 0 instead of not applying.

Run ``python bench/floor.py <population folder>`` to compare the floor with the compiled queries rule by
rule (and time both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from huiqi.compile.document import RuleColumns

PERIOD = 2023
AS_OF = dt.date(2024, 6, 30)

# Money: BIGINT fen, 1万元 = 1 000 000 fen (the comments give each constant in 万元 or 亿元).

SUZHOU = """
CREATE OR REPLACE TEMP TABLE floor_suzhou_software_cluster AS
WITH e AS (
    SELECT _k, entity_type, established_on, settled_on, paid_in_capital, social_insurance_staff,
        newly_established_in_suzhou, spun_off_digital_business, software_park_designations,
        digital_economy_park_level, software_famous_park_level, is_industrial_software_core_tech_project,
        is_innovation_consortium, is_consortium_major_open_call_project, project_total_investment,
        software_innovation_center_level, is_quality_joint_innovation_project, project_software_investment,
        builds_open_source_platform, open_source_leading_capability, promotes_industrial_software_via_cloud,
        xinchuang_benchmark_level, tech_provider_rd_investment, first_round_xinchuang_conformance_user,
        xinchuang_adaptation_in_suzhou, first_version_software_level, selected_gusu_leading_talent,
        newly_introduced_talent, is_high_skill_leading_talent, selected_suzhou_shortage_talent,
        talent_training_base_designations, is_open_source_talent_base,
        entity_type = 'enterprise' AND registered_city = '苏州市' AS sz_firm,
        -- 本政策所指软件企业
        entity_type = 'enterprise' AND registered_city = '苏州市' AND main_business_software
            AND in_miit_software_statistics AS sw_firm,
        -- 1: 新引进工业软件企业, 实缴注册资本 >= 1000万元, 社保 >= 50人 (both awards of item 1)
        entity_type = 'enterprise' AND registered_city = '苏州市' AND main_business_software
            AND in_miit_software_statistics AND is_industrial_software_enterprise
            AND newly_introduced_independent_entity AND paid_in_capital >= 1000000000
            AND social_insurance_staff >= 50 AS settle_gate,
        -- 3/key-growth: in the provincial or the Suzhou key-software pool, operating stably
        entity_type = 'enterprise' AND registered_city = '苏州市'
            AND (in_provincial_key_software_pool OR in_suzhou_key_software_pool) AND operating_stably AS key_firm,
        entity_type = 'talent' AND is_software_talent AS sw_talent
    FROM entities
    WHERE list_contains(region, '苏州市')
),
h23 AS (
    SELECT _k, revenue, software_revenue, first_version_product_sales,
        first_listed_china_software_top100 OR first_listed_china_internet_top100 AS first_top100
    FROM history WHERE year = 2023
),
h22 AS (
    SELECT _k, revenue AS revenue_2022, software_revenue AS software_revenue_2022
    FROM history WHERE year = 2022
),
hb AS (
    -- 3: the largest revenue before 2023 (0 for a firm founded in 2023), for 首次达到
    SELECT e._k, COALESCE(MAX(h.revenue), CASE WHEN e.established_on >= DATE '2023-01-01' THEN 0 END)
        AS revenue_before
    FROM e LEFT JOIN history h ON h._k = e._k AND h.year < 2023
    WHERE e.sw_firm
    GROUP BY e._k, e.established_on
),
win AS (
    -- 1/revenue: revenue of the settling year and the next two, as far as 2023
    SELECT e._k, SUM(h.revenue) AS window_revenue, COUNT(h.revenue) AS window_years,
        LEAST(year(e.settled_on) + 2, 2023) - year(e.settled_on) + 1 AS window_length
    FROM e JOIN history h
        ON h._k = e._k AND h.year BETWEEN year(e.settled_on) AND LEAST(year(e.settled_on) + 2, 2023)
    WHERE e.settle_gate AND year(e.settled_on) <= 2023
    GROUP BY e._k, e.settled_on
),
led AS (
    SELECT _k,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:1/capital') AS paid_capital,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:1/revenue') AS paid_revenue,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:2/new-firm') AS paid_new_firm,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:3/revenue-milestone') AS paid_milestone,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:3/top100') AS paid_top100,
        bool_or(tier = 'national') FILTER (WHERE rule = 'suzhou-software-cluster:4/park') AS park_national_paid,
        bool_or(tier = 'provincial') FILTER (WHERE rule = 'suzhou-software-cluster:4/park') AS park_provincial_paid,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:7/innovation-center' AND period = 2023)
            AS center_paid_2023,
        COUNT(DISTINCT period) FILTER (WHERE rule = 'suzhou-software-cluster:7/innovation-center') AS center_years,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:8/leading-project') AS paid_leading_project,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:10/first-conformance') AS paid_conformance,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:10/adaptation') AS paid_adaptation,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:12/leading-project-funding')
            AS paid_gusu_funding,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:12/leading-housing') AS paid_gusu_housing,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:12/high-skill-housing') AS paid_high_skill,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:12/shortage-salary') AS paid_shortage,
        bool_or(tier = 'provincial') FILTER (WHERE rule = 'suzhou-software-cluster:13/training-base')
            AS training_provincial_paid,
        bool_or(tier = 'municipal') FILTER (WHERE rule = 'suzhou-software-cluster:13/training-base')
            AS training_municipal_paid,
        SUM(amount_fen) FILTER (WHERE rule = 'suzhou-software-cluster:13/oss-talent-base' AND period = 2023)
            AS oss_paid_2023,
        COUNT(DISTINCT period) FILTER (WHERE rule = 'suzhou-software-cluster:13/oss-talent-base') AS oss_years
    FROM ledger
    WHERE starts_with(rule, 'suzhou-software-cluster:')
    GROUP BY _k
),
b AS (
    SELECT *, software_revenue - software_revenue_2022 AS software_increment
    FROM e LEFT JOIN h23 USING (_k) LEFT JOIN h22 USING (_k) LEFT JOIN hb USING (_k)
        LEFT JOIN win USING (_k) LEFT JOIN led USING (_k)
)
SELECT _k,
    -- 1/capital: 实缴注册资本 × 5%, at most 100万元; once
    CASE WHEN settle_gate AND paid_capital IS NULL
        THEN LEAST((paid_in_capital + 10) // 20, 100000000) END AS capital,
    -- 1/revenue: 落户3年内累计营业收入 >= 2亿元 (every year of the window on file): 200万元 (ceiling); once
    CASE WHEN window_revenue >= 20000000000 AND window_years = window_length AND paid_revenue IS NULL
        THEN 200000000 END AS revenue,
    -- 2/new-firm: 20人 & 2000万元 → 50万元, 50人 & 5000万元 → 100万元; top up what this rule paid
    CASE WHEN sw_firm AND (newly_established_in_suzhou OR spun_off_digital_business) THEN NULLIF(GREATEST(
        CASE WHEN social_insurance_staff >= 50 AND revenue >= 5000000000 THEN 100000000
             WHEN social_insurance_staff >= 20 AND revenue >= 2000000000 THEN 50000000 END
        - COALESCE(paid_new_firm, 0), 0), 0) END AS new_firm,
    -- 3/revenue-milestone: first reached 1亿/5亿/10亿元 → 200/300/500万元; top up
    CASE WHEN sw_firm THEN NULLIF(GREATEST(
        CASE WHEN revenue >= 100000000000 AND revenue_before < 100000000000 THEN 500000000
             WHEN revenue >= 50000000000 AND revenue_before < 50000000000 THEN 300000000
             WHEN revenue >= 10000000000 AND revenue_before < 10000000000 THEN 200000000 END
        - COALESCE(paid_milestone, 0), 0), 0) END AS revenue_milestone,
    -- 3/top100: first listed in either top-100 in 2023: 500万元; once
    CASE WHEN sz_firm AND first_top100 AND paid_top100 IS NULL THEN 500000000 END AS top100,
    -- 3/key-growth: in a key-software pool, stable, revenue up more than 50% on 2022: 100万元 (ceiling)
    CASE WHEN key_firm AND revenue_2022 > 0 AND revenue * 2 > revenue_2022 * 3 THEN 100000000 END AS key_growth,
    -- 4/park: 国家级 300万元, 省级 200万元, each level once
    CASE WHEN entity_type = 'park_operator' THEN NULLIF(
        CASE WHEN list_contains(software_park_designations, '国家级') AND park_national_paid IS NOT TRUE
             THEN 300000000 ELSE 0 END
        + CASE WHEN list_contains(software_park_designations, '省级') AND park_provincial_paid IS NOT TRUE
             THEN 200000000 ELSE 0 END, 0) END AS park,
    -- 5/digital-park: software revenue increment × 2‰, at most 100万元
    CASE WHEN entity_type = 'park_operator' AND digital_economy_park_level IN ('市级', '省级', '国家级')
        AND software_increment > 0 THEN LEAST((software_increment + 250) // 500, 100000000) END AS digital_park,
    -- 5/famous-park: software revenue increment × 1‰, at most 300万元
    CASE WHEN entity_type = 'park_operator' AND software_famous_park_level IN ('省级', '国家级')
        AND software_increment > 0 THEN LEAST((software_increment + 500) // 1000, 300000000) END AS famous_park,
    -- 6/core-tech: 1000万元 (ceiling, reviewed)
    CASE WHEN entity_type = 'project' AND is_industrial_software_core_tech_project THEN 1000000000 END AS core_tech,
    -- 6/consortium: 200万元 (ceiling, reviewed)
    CASE WHEN entity_type = 'institution' AND is_innovation_consortium THEN 200000000 END AS consortium,
    -- 6/open-call: project investment × 50%, at most 1000万元
    CASE WHEN entity_type = 'project' AND is_consortium_major_open_call_project AND project_total_investment > 0
        THEN LEAST((project_total_investment + 1) // 2, 1000000000) END AS open_call,
    -- 7/innovation-center: 480万元 a year (per-year cap), at most 3 years
    CASE WHEN entity_type = 'institution' AND software_innovation_center_level IN ('市级', '省级', '国家级')
        AND (COALESCE(center_years, 0) < 3 OR center_paid_2023 > 0)
        THEN NULLIF(GREATEST(480000000 - COALESCE(center_paid_2023, 0), 0), 0) END AS innovation_center,
    -- 7/joint-project: project software investment × 50%, at most 600万元
    CASE WHEN entity_type = 'project' AND is_quality_joint_innovation_project AND project_software_investment > 0
        THEN LEAST((project_software_investment + 1) // 2, 600000000) END AS joint_project,
    -- 8/platform: 一事一议 (no amount)
    (entity_type = 'local_government' AND builds_open_source_platform) IS TRUE AS platform,
    -- 8/leading-project: 200万元; once
    CASE WHEN entity_type = 'project' AND open_source_leading_capability AND paid_leading_project IS NULL
        THEN 200000000 END AS leading_project,
    -- 9/cloud-promotion: 200万元 (ceiling, reviewed)
    CASE WHEN entity_type = 'local_government' AND promotes_industrial_software_via_cloud
        THEN 200000000 END AS cloud_promotion,
    -- 10/benchmark: technology provider's R&D × 20%, at most 50万元
    CASE WHEN entity_type = 'project' AND xinchuang_benchmark_level IN ('市级', '省级', '国家级')
        AND tech_provider_rd_investment > 0 THEN LEAST((tech_provider_rd_investment * 2 + 5) // 10, 50000000) END
        AS benchmark,
    -- 10/first-conformance: 50万元; once
    CASE WHEN entity_type = 'enterprise' AND first_round_xinchuang_conformance_user AND paid_conformance IS NULL
        THEN 50000000 END AS first_conformance,
    -- 10/adaptation: 50万元 (reviewed), 50万元 in all
    CASE WHEN entity_type = 'enterprise' AND xinchuang_adaptation_in_suzhou
        THEN NULLIF(GREATEST(50000000 - COALESCE(paid_adaptation, 0), 0), 0) END AS adaptation,
    -- 11/first-version: the product's 2023 sales × 20%, at most 200万元
    CASE WHEN entity_type = 'enterprise' AND first_version_software_level IN ('省级', '国家级')
        AND first_version_product_sales > 0 THEN LEAST((first_version_product_sales * 2 + 5) // 10, 200000000) END
        AS first_version,
    -- 12: software talents (reviewed ceilings)
    CASE WHEN sw_talent AND selected_gusu_leading_talent AND paid_gusu_funding IS NULL
        THEN 1000000000 END AS leading_project_funding,
    CASE WHEN sw_talent AND selected_gusu_leading_talent AND paid_gusu_housing IS NULL
        THEN 300000000 END AS leading_housing,
    CASE WHEN sw_talent AND newly_introduced_talent AND is_high_skill_leading_talent AND paid_high_skill IS NULL
        THEN 100000000 END AS high_skill_housing,
    CASE WHEN sw_talent AND selected_suzhou_shortage_talent
        THEN NULLIF(GREATEST(30000000 - COALESCE(paid_shortage, 0), 0), 0) END AS shortage_salary,
    -- 13/training-base: 省级 100万元, 市级 50万元, each level once
    CASE WHEN entity_type = 'institution' THEN NULLIF(
        CASE WHEN list_contains(talent_training_base_designations, '省级') AND training_provincial_paid IS NOT TRUE
             THEN 100000000 ELSE 0 END
        + CASE WHEN list_contains(talent_training_base_designations, '市级') AND training_municipal_paid IS NOT TRUE
             THEN 50000000 ELSE 0 END, 0) END AS training_base,
    -- 13/oss-talent-base: 200万元 a year (per-year cap), at most 3 years
    CASE WHEN entity_type = 'institution' AND is_open_source_talent_base
        AND (COALESCE(oss_years, 0) < 3 OR oss_paid_2023 > 0)
        THEN NULLIF(GREATEST(200000000 - COALESCE(oss_paid_2023, 0), 0), 0) END AS oss_talent_base
FROM b
"""

GUANGZHOU = """
CREATE OR REPLACE TEMP TABLE floor_guangzhou_software AS
WITH e AS (
    SELECT _k, entity_type, established_on, settled_on, paid_in_capital, is_high_tech_enterprise,
        is_provincial_srdi_sme, provincial_srdi_sme_recognised_on, is_national_little_giant,
        little_giant_recognised_on, certifications, national_iip_platform_type,
        undertakes_national_lab_platform_or_major_project, is_china_famous_software_park,
        gz_project_category, project_total_investment, project_completed, project_led_by_backbone_enterprise,
        listed_first_version_software,
        -- 三.2 不得重复享受: not already funded by the city for the same matter (false when not given)
        NOT COALESCE(received_similar_gz_city_support, FALSE) AS unfunded,
        -- 软件和信息技术服务企业 (also the scope of 二.2, 二.6, 二.12 under the default reading)
        entity_type = 'enterprise' AND is_software_it_service_enterprise
            AND NOT COALESCE(received_similar_gz_city_support, FALSE) AS gz_firm
    FROM entities
    WHERE list_contains(region, '广州市')
),
h23 AS (SELECT _k, revenue, newly_above_designated_size FROM history WHERE year = 2023),
hb AS (
    -- 二.5: the largest revenue before 2023 (0 for a firm founded in 2023), for 首次达到
    SELECT e._k, COALESCE(MAX(h.revenue), CASE WHEN e.established_on >= DATE '2023-01-01' THEN 0 END)
        AS revenue_before
    FROM e LEFT JOIN history h ON h._k = e._k AND h.year < 2023
    WHERE e.gz_firm
    GROUP BY e._k, e.established_on
),
led AS (
    SELECT _k,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.2/hte-to-above-size') AS paid_hte,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.2/provincial-srdi') AS paid_srdi,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.2/little-giant') AS paid_little_giant,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.4/new-settlement') AS paid_settlement,
        bool_or(tier = 't1yi') FILTER (WHERE rule = 'guangzhou-software:二.5/revenue-tiers') AS t1yi_paid,
        bool_or(tier = 't5yi') FILTER (WHERE rule = 'guangzhou-software:二.5/revenue-tiers') AS t5yi_paid,
        bool_or(tier = 't10yi') FILTER (WHERE rule = 'guangzhou-software:二.5/revenue-tiers') AS t10yi_paid,
        bool_or(tier = 't20yi') FILTER (WHERE rule = 'guangzhou-software:二.5/revenue-tiers') AS t20yi_paid,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.6/maturity-assessment') AS paid_maturity,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.12/iip-comprehensive') AS paid_iip_comprehensive,
        SUM(amount_fen) FILTER (WHERE rule = 'guangzhou-software:二.12/iip-specialised') AS paid_iip_specialised
    FROM ledger
    WHERE starts_with(rule, 'guangzhou-software:')
    GROUP BY _k
),
b AS (
    SELECT * FROM e LEFT JOIN h23 USING (_k) LEFT JOIN hb USING (_k) LEFT JOIN led USING (_k)
)
SELECT _k,
    -- 二.1: amounts decided by the authorities
    (entity_type = 'project' AND gz_project_category = '国家重点研发计划成果转化项目' AND unfunded) IS TRUE
        AS key_rd_transfer,
    (entity_type = 'enterprise' AND undertakes_national_lab_platform_or_major_project AND unfunded) IS TRUE
        AS national_matching_enterprise,
    (entity_type = 'institution' AND undertakes_national_lab_platform_or_major_project AND unfunded) IS TRUE
        AS national_matching_institution,
    -- 二.2/hte-to-above-size: 100万元 in all (ceiling)
    CASE WHEN gz_firm AND is_high_tech_enterprise AND newly_above_designated_size
        THEN NULLIF(GREATEST(100000000 - COALESCE(paid_hte, 0), 0), 0) END AS hte_to_above_size,
    -- 二.2/provincial-srdi: recognised in 2023: 20万元; once
    CASE WHEN gz_firm AND is_provincial_srdi_sme AND year(provincial_srdi_sme_recognised_on) = 2023
        AND paid_srdi IS NULL THEN 20000000 END AS provincial_srdi,
    -- 二.2/little-giant: recognised in 2023, or moved in in 2023 already recognised: 100万元; once
    CASE WHEN gz_firm AND is_national_little_giant AND paid_little_giant IS NULL
        AND (year(little_giant_recognised_on) = 2023
             OR (year(settled_on) = 2023 AND little_giant_recognised_on <= settled_on))
        THEN 100000000 END AS little_giant,
    -- 二.3/open-source-platform: completed, investment × 30%, at most 1000万元
    CASE WHEN entity_type = 'project' AND gz_project_category = '开源平台及社区建设项目' AND project_completed
        AND unfunded AND project_total_investment > 0
        THEN LEAST((project_total_investment * 3 + 5) // 10, 1000000000) END AS open_source_platform,
    -- 二.3/open-source-product: 300万元 (ceiling)
    CASE WHEN entity_type = 'project' AND gz_project_category = '开源原创产品研发项目' AND unfunded
        THEN 300000000 END AS open_source_product,
    -- 二.4/new-settlement: settled in 2023, 实缴 >= 2000万元 or revenue >= 1亿元: 300万元; once
    CASE WHEN gz_firm AND year(settled_on) = 2023 AND (paid_in_capital >= 2000000000 OR revenue >= 10000000000)
        AND paid_settlement IS NULL THEN 300000000 END AS new_settlement,
    -- 二.5/revenue-tiers: first reached 1亿/5亿/10亿/20亿元 → 70/100/200/300万元, each tier once
    CASE WHEN gz_firm THEN NULLIF(
        CASE WHEN revenue >= 10000000000 AND revenue_before < 10000000000 AND t1yi_paid IS NOT TRUE
             THEN 70000000 ELSE 0 END
        + CASE WHEN revenue >= 50000000000 AND revenue_before < 50000000000 AND t5yi_paid IS NOT TRUE
             THEN 100000000 ELSE 0 END
        + CASE WHEN revenue >= 100000000000 AND revenue_before < 100000000000 AND t10yi_paid IS NOT TRUE
             THEN 200000000 ELSE 0 END
        + CASE WHEN revenue >= 200000000000 AND revenue_before < 200000000000 AND t20yi_paid IS NOT TRUE
             THEN 300000000 ELSE 0 END, 0) END AS revenue_tiers,
    -- 二.5/revenue-50yi: revenue >= 50亿元: 2000万元 (ceiling, reviewed: 增速 unspecified)
    CASE WHEN gz_firm AND revenue >= 500000000000 THEN 2000000000 END AS revenue_50yi,
    -- 二.6/maturity-assessment: CSMM4+ or DCMM3+: 50万元; once
    CASE WHEN gz_firm AND list_has_any(certifications, ['CSMM4', 'CSMM5', 'DCMM3', 'DCMM4', 'DCMM5'])
        AND paid_maturity IS NULL THEN 50000000 END AS maturity_assessment,
    -- 二.7/empowerment-platform: backbone-led, completed, investment × 30%, at most 1000万元
    CASE WHEN entity_type = 'project' AND gz_project_category = '数字化赋能平台项目'
        AND project_led_by_backbone_enterprise AND project_completed AND unfunded AND project_total_investment > 0
        THEN LEAST((project_total_investment * 3 + 5) // 10, 1000000000) END AS empowerment_platform,
    -- 二.8/application-demo: 1000万元 (ceiling)
    CASE WHEN entity_type = 'project' AND gz_project_category = '应用示范项目' AND unfunded
        THEN 1000000000 END AS application_demo,
    -- 二.9/first-version: listed first-version product: 300万元 (ceiling)
    CASE WHEN entity_type = 'project' AND gz_project_category = '首版次软件产品项目'
        AND listed_first_version_software AND unfunded THEN 300000000 END AS first_version,
    -- 二.11/china-famous-park: support as the state requires (no amount)
    (entity_type = 'park_operator' AND is_china_famous_software_park AND unfunded) IS TRUE AS china_famous_park,
    -- 二.12: national industrial-internet platforms: 500万元 / 300万元; once each
    CASE WHEN gz_firm AND national_iip_platform_type = '跨行业跨领域综合型' AND paid_iip_comprehensive IS NULL
        THEN 500000000 END AS iip_comprehensive,
    CASE WHEN gz_firm AND national_iip_platform_type IN ('特色型', '专业型') AND paid_iip_specialised IS NULL
        THEN 300000000 END AS iip_specialised
FROM b
"""

XINJIANG = """
CREATE OR REPLACE TEMP TABLE floor_xinjiang_2017_software AS
WITH e AS (
    SELECT _k, entity_type, established_on, located_in_software_park, is_cloud_bigdata_unit,
        has_rd_loan_guarantee, xinjiang_work_started_on, is_introduced_fresh_graduate,
        renowned_internet_work_years, held_mid_senior_position, started_business_in_xinjiang_with_project,
        is_startup_manager_or_core_tech, achievement_conversion_mode, achievement_equity_value,
        transfer_net_income_after_tax, has_national_project_support, park_infrastructure_bank_loan,
        completed_park_infrastructure_project, infrastructure_project_evaluation_passed,
        is_renowned_software_enterprise, actual_investment_in_place, in_leading_enterprise_pool,
        is_high_growth_leading_enterprise, internet_plus_manufacturing_demo,
        year(talent_recognised_on) AS recognised_year,
        -- 软件和信息服务企业 (also the scope of 第十一至十三条 under the default reading)
        entity_type = 'enterprise' AND is_software_info_service_enterprise AS sis_firm,
        -- 第二十条: 疆外软件和信息服务企业落户新疆 (default reading)
        entity_type = 'enterprise' AND is_software_info_service_enterprise AND relocated_from_outside_xinjiang
            AS art20_firm,
        entity_type = 'talent' AND achievement_is_cloud_bigdata AND is_service_achievement_completer AS completer
    FROM entities
    WHERE list_contains(region, '新疆维吾尔自治区')
),
h23 AS (
    SELECT _k, revenue, rd_loan_interest_paid, iit_paid, iit_local_retained, patent_application_fees,
        innovation_platforms_recognised, certifications_obtained, park_public_service_tasks_completed,
        uses_park_public_service_platform
    FROM history WHERE year = 2023
),
hb AS (
    -- 第二十一条: the largest revenue before 2023 (0 for a firm founded in 2023), for 首次突破
    SELECT e._k, COALESCE(MAX(h.revenue), CASE WHEN e.established_on >= DATE '2023-01-01' THEN 0 END)
        AS revenue_before
    FROM e LEFT JOIN history h ON h._k = e._k AND h.year < 2023
    WHERE e.sis_firm
    GROUP BY e._k, e.established_on
),
led AS (
    SELECT _k,
        SUM(amount_fen) FILTER (WHERE rule = 'xinjiang-2017-software:8/graduate-settling') AS paid_graduate,
        SUM(amount_fen) FILTER (WHERE rule = 'xinjiang-2017-software:21/revenue-1yi') AS paid_1yi,
        SUM(amount_fen) FILTER (WHERE rule = 'xinjiang-2017-software:21/revenue-5000w') AS paid_5000w,
        SUM(amount_fen) FILTER (WHERE rule = 'xinjiang-2017-software:21/revenue-3000w') AS paid_3000w
    FROM ledger
    WHERE starts_with(rule, 'xinjiang-2017-software:')
    GROUP BY _k
),
b AS (
    SELECT *,
        -- 首次突破 = 首次达到 (default reading)
        revenue >= 10000000000 AND revenue_before < 10000000000 AS first_1yi,
        revenue >= 5000000000 AND revenue_before < 5000000000 AS first_5000w,
        revenue >= 3000000000 AND revenue_before < 3000000000 AS first_3000w
    FROM e LEFT JOIN h23 USING (_k) LEFT JOIN hb USING (_k) LEFT JOIN led USING (_k)
)
SELECT _k,
    -- 第三条: telecom subsidies for cloud / big-data units in a software park
    (entity_type = 'enterprise' AND located_in_software_park AND is_cloud_bigdata_unit) IS TRUE
        AS telecom_enterprise,
    (entity_type = 'institution' AND located_in_software_park AND is_cloud_bigdata_unit) IS TRUE
        AS telecom_institution,
    -- 第五条
    (sis_firm AND has_rd_loan_guarantee) IS TRUE AS guarantee_fee,
    (sis_firm AND rd_loan_interest_paid > 0) IS TRUE AS loan_interest,
    -- 第八条/iit-reward: recognised 2014–2023 (year 1–10 from recognition), in Xinjiang more than a year
    -- (started before 2023-06-30), 2023 IIT >= 3万元: local share × 90% (years 1–5) or 60% (years 6–10)
    CASE WHEN entity_type = 'talent' AND recognised_year BETWEEN 2014 AND 2023
        AND xinjiang_work_started_on < DATE '2023-06-30' AND iit_paid >= 3000000 AND iit_local_retained > 0
        THEN CASE WHEN recognised_year >= 2019 THEN (iit_local_retained * 9 + 5) // 10
                  ELSE (iit_local_retained * 6 + 5) // 10 END END AS iit_reward,
    (entity_type = 'talent' AND is_introduced_fresh_graduate AND paid_graduate IS NULL) IS TRUE
        AS graduate_settling,
    -- 第九条
    (entity_type = 'talent' AND renowned_internet_work_years >= 3 AND held_mid_senior_position
        AND started_business_in_xinjiang_with_project AND is_startup_manager_or_core_tech) IS TRUE AS startup_fund,
    -- 第十一条: equity at most 50% of the achievement's value; proceeds at least 20% of the net income
    CASE WHEN completer AND achievement_conversion_mode = '股权投入' AND achievement_equity_value > 0
        THEN (achievement_equity_value + 1) // 2 END AS equity_share,
    CASE WHEN completer AND achievement_conversion_mode = '技术转让' AND transfer_net_income_after_tax > 0
        THEN (transfer_net_income_after_tax * 2 + 5) // 10 END AS transfer_proceeds,
    (sis_firm AND patent_application_fees > 0) IS TRUE AS patent_fees,
    -- 第十二条
    (sis_firm AND innovation_platforms_recognised >= 1) IS TRUE AS platform_enterprise,
    (entity_type = 'institution' AND innovation_platforms_recognised >= 1) IS TRUE AS platform_institution,
    -- 第十三条: certifications obtained in 2023
    (sis_firm AND list_has_any(certifications_obtained,
        ['CMM3', 'CMM4', 'CMM5', 'CMMI3', 'CMMI4', 'CMMI5', 'ISO27001', 'BS7799', 'ITSS'])) IS TRUE AS certification,
    (sis_firm AND has_national_project_support) IS TRUE AS national_matching,
    -- 第十四条
    (entity_type = 'park_operator' AND park_infrastructure_bank_loan) IS TRUE AS infrastructure_loan_interest,
    (entity_type = 'enterprise' AND completed_park_infrastructure_project
        AND infrastructure_project_evaluation_passed) IS TRUE AS developer_infrastructure,
    -- 第十五条
    (entity_type = 'enterprise' AND is_renowned_software_enterprise AND located_in_software_park) IS TRUE
        AS renowned_enterprise,
    -- 第十六条
    (entity_type = 'park_operator' AND park_public_service_tasks_completed) IS TRUE AS park_operation,
    (entity_type = 'enterprise' AND located_in_software_park AND uses_park_public_service_platform) IS TRUE
        AS platform_users,
    -- 第二十条: investment in place over 5000万 / over 3000万 / over 1000万元
    (art20_firm AND actual_investment_in_place > 5000000000) IS TRUE AS grade_1,
    (art20_firm AND actual_investment_in_place > 3000000000 AND actual_investment_in_place <= 5000000000) IS TRUE
        AS grade_2,
    (art20_firm AND actual_investment_in_place > 1000000000 AND actual_investment_in_place <= 3000000000) IS TRUE
        AS grade_3,
    -- 第二十一条: the highest grade first broken through in 2023 (default reading); once each
    (entity_type = 'enterprise' AND in_leading_enterprise_pool AND is_high_growth_leading_enterprise) IS TRUE
        AS leading_enterprise,
    (sis_firm AND first_1yi AND paid_1yi IS NULL) IS TRUE AS revenue_1yi,
    (sis_firm AND first_5000w AND NOT first_1yi AND paid_5000w IS NULL) IS TRUE AS revenue_5000w,
    (sis_firm AND first_3000w AND NOT first_5000w AND paid_3000w IS NULL) IS TRUE AS revenue_3000w,
    -- 第二十二条
    (sis_firm AND internet_plus_manufacturing_demo) IS TRUE AS demo_project
FROM b
"""

ZHEJIANG = """
CREATE OR REPLACE TEMP TABLE floor_zhejiang_software_bases AS
WITH e AS (
    SELECT _k, listed_software_base_type, prefecture_city, county_software_scale_rank,
        base_has_clear_plan_and_schedule, base_fosters_backbone_enterprises_and_projects, base_has_featured_direction,
        base_featured_industry_has_scale_and_share, startup_teams_or_firms_count,
        base_has_integrated_incubation_platform, base_third_party_evaluation_good,
        entity_type = 'local_government' AS government,
        -- 二: a county applying, with support policies and priority (common to the three bases; the
        -- 2–3 year construction period is guidance under the default reading)
        entity_type = 'local_government' AND government_level = '县（市、区）' AND government_issued_support_policies
            AND government_prioritises_base_construction AS county,
        -- listed in the plan (创新基地 = 创业基地 under the default reading)
        entity_type = 'local_government'
            AND listed_software_base_type IN ('示范基地', '特色基地', '创业基地', '创新基地') AS listed
    FROM entities
    WHERE list_contains(region, '浙江省')
),
led AS (
    SELECT _k,
        SUM(amount_fen) FILTER (WHERE rule = 'zhejiang-software-bases:七.1/demonstration') AS paid_demonstration,
        SUM(amount_fen) FILTER (WHERE rule = 'zhejiang-software-bases:七.1/featured') AS paid_featured,
        SUM(amount_fen) FILTER (WHERE rule = 'zhejiang-software-bases:七.1/startup') AS paid_startup
    FROM ledger
    WHERE starts_with(rule, 'zhejiang-software-bases:')
    GROUP BY _k
)
SELECT _k,
    -- 二.1–二.3: may apply (no amount)
    (county AND county_software_scale_rank <= 15 AND base_has_clear_plan_and_schedule
        AND base_fosters_backbone_enterprises_and_projects) IS TRUE AS eligibility_demonstration,
    (county AND county_software_scale_rank <= 20 AND base_has_clear_plan_and_schedule AND base_has_featured_direction
        AND base_featured_industry_has_scale_and_share) IS TRUE AS eligibility_featured,
    (county AND startup_teams_or_firms_count >= 20 AND base_has_integrated_incubation_platform) IS TRUE
        AS eligibility_startup,
    -- 七.1: one-off funds outside Ningbo: 1000万 / 600万 / 300万元; once
    CASE WHEN government AND listed_software_base_type = '示范基地' AND prefecture_city <> '宁波市'
        AND paid_demonstration IS NULL THEN 1000000000 END AS demonstration,
    CASE WHEN government AND listed_software_base_type = '特色基地' AND prefecture_city <> '宁波市'
        AND paid_featured IS NULL THEN 600000000 END AS featured,
    CASE WHEN government AND listed_software_base_type IN ('创业基地', '创新基地') AND prefecture_city <> '宁波市'
        AND paid_startup IS NULL THEN 300000000 END AS startup,
    (listed AND base_third_party_evaluation_good AND prefecture_city <> '宁波市') IS TRUE AS performance,
    (listed AND prefecture_city = '宁波市') IS TRUE AS ningbo,
    -- 七.4
    listed IS TRUE AS plaque_and_award
FROM e LEFT JOIN led USING (_k)
"""

#: document id → the statement creating its floor table
FLOOR_SQL: dict[str, str] = {
    "suzhou-software-cluster": SUZHOU,
    "guangzhou-software": GUANGZHOU,
    "xinjiang-2017-software": XINJIANG,
    "zhejiang-software-bases": ZHEJIANG,
}


def _columns(refs: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """``provision/rule`` (whitespace-separated) → its floor column: the rule id with ``-`` → ``_`` unless
    ``names`` says otherwise."""
    names = names or {}
    return {ref: names.get(ref, ref.split("/", 1)[1].replace("-", "_")) for ref in refs.split()}


#: document id → (``provision/rule`` → column of the floor table)
FLOOR_COLUMNS: dict[str, dict[str, str]] = {
    "suzhou-software-cluster": _columns(
        """1/capital 1/revenue 2/new-firm 3/revenue-milestone 3/top100 3/key-growth 4/park 5/digital-park
        5/famous-park 6/core-tech 6/consortium 6/open-call 7/innovation-center 7/joint-project 8/platform
        8/leading-project 9/cloud-promotion 10/benchmark 10/first-conformance 10/adaptation 11/first-version
        12/leading-project-funding 12/leading-housing 12/high-skill-housing 12/shortage-salary 13/training-base
        13/oss-talent-base"""
    ),
    "guangzhou-software": _columns(
        """二.1/key-rd-transfer 二.1/national-matching-enterprise 二.1/national-matching-institution
        二.2/hte-to-above-size 二.2/provincial-srdi 二.2/little-giant 二.3/open-source-platform
        二.3/open-source-product 二.4/new-settlement 二.5/revenue-tiers 二.5/revenue-50yi 二.6/maturity-assessment
        二.7/empowerment-platform 二.8/application-demo 二.9/first-version 二.11/china-famous-park
        二.12/iip-comprehensive 二.12/iip-specialised"""
    ),
    "xinjiang-2017-software": _columns(
        """3/telecom-enterprise 3/telecom-institution 5/guarantee-fee 5/loan-interest 8/iit-reward
        8/graduate-settling 9/startup-fund 11/equity-share 11/transfer-proceeds 11/patent-fees
        12/platform-enterprise 12/platform-institution 13/certification 13/national-matching
        14/infrastructure-loan-interest 14/developer-infrastructure 15/renowned-enterprise 16/park-operation
        16/platform-users 20/grade-1 20/grade-2 20/grade-3 21/leading-enterprise 21/revenue-1yi 21/revenue-5000w
        21/revenue-3000w 22/demo-project"""
    ),
    "zhejiang-software-bases": _columns(
        """二.1/eligibility 二.2/eligibility 二.3/eligibility 七.1/demonstration 七.1/featured 七.1/startup
        七.1/performance 七.1/ningbo 七.4/plaque-and-award""",
        names={
            "二.1/eligibility": "eligibility_demonstration",
            "二.2/eligibility": "eligibility_featured",
            "二.3/eligibility": "eligibility_startup",
        },
    ),
}


def floor_table(document: str) -> str:
    """The name of a document's floor table."""
    return "floor_" + document.replace("-", "_")


def run_floor(connection: duckdb.DuckDBPyConnection, documents: list[str] | None = None) -> None:
    """Create the floor tables of ``documents`` (all four by default) on a connection holding the population."""
    for document in documents or list(FLOOR_SQL):
        connection.execute(FLOOR_SQL[document])


# --- comparison with the compiled queries ------------------------------------------------------------------

#: compiled status codes counted as "the rule's conditions hold": eligible, needs_review (a rule whose amount
#: officials decide), excluded (不重复享受: eligible, but another rule of its group was kept)
_HOLDS = "(0, 1, 3)"
_NEEDS_INFORMATION = 2


def compare(
    connection: duckdb.DuckDBPyConnection, document: str, rules: list[RuleColumns], result_table: str
) -> list[tuple[str, int, int, int, int, int, int]]:
    """Per rule: (column, floor holds, compiled holds, compiled needs information, floor only, compiled only,
    both hold with different amounts)."""
    floor = floor_table(document)
    kinds = {row[0]: row[1] for row in connection.execute(f"DESCRIBE {floor}").fetchall()}
    aggregates = []
    names = []
    for rule in rules:
        local = rule.ref.split(":", 1)[1]
        column = FLOOR_COLUMNS[document][local]
        status, amount = f"c.{rule.status}", rule.amount_sql("c")
        boolean = kinds[column] == "BOOLEAN"
        f_holds = f"f.{column}" if boolean else f"f.{column} IS NOT NULL"
        c_holds = f"{status} IN {_HOLDS}"
        differs = "FALSE" if boolean else f"f.{column} IS DISTINCT FROM {amount}"
        aggregates += [
            f"count(*) FILTER (WHERE {f_holds})",
            f"count(*) FILTER (WHERE {c_holds})",
            f"count(*) FILTER (WHERE {status} = {_NEEDS_INFORMATION})",
            f"count(*) FILTER (WHERE ({f_holds}) IS TRUE AND ({c_holds}) IS NOT TRUE)",
            f"count(*) FILTER (WHERE ({c_holds}) IS TRUE AND ({f_holds}) IS NOT TRUE)",
            f"count(*) FILTER (WHERE ({f_holds}) IS TRUE AND ({c_holds}) IS TRUE AND {differs})",
        ]
        names.append(local)
    # the compiled result is keyed by entity_id and also holds entities of unknown region: join through entities
    row = connection.execute(
        f"SELECT {', '.join(aggregates)} FROM {floor} f FULL JOIN "
        f"(SELECT e._k, r.* FROM {result_table} r JOIN entities e USING (entity_id)) c USING (_k)"
    ).fetchone()
    assert row is not None
    return [(name, *row[6 * i : 6 * i + 6]) for i, name in enumerate(names)]


def main() -> None:
    from huiqi.compile.duckdb_runner import DuckDBRunner
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase

    parser = argparse.ArgumentParser(description="Run the floor and the compiled queries on a population folder.")
    parser.add_argument("folder", type=Path, help="population folder (entities/history/ledger.parquet)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    con = duckdb.connect(config={"threads": args.threads} if args.threads else {})
    runner = DuckDBRunner(Engine(PolicyBase.load()), con)
    start = time.perf_counter()
    runner.load_parquet(args.folder)
    (n,) = con.execute("SELECT count(*) FROM entities").fetchone() or (0,)
    print(f"loaded {n:,} entities in {time.perf_counter() - start:.2f} s")
    totals = [0.0, 0.0]
    for document in FLOOR_SQL:
        start = time.perf_counter()
        compiled = runner.evaluate_all([document], period=PERIOD, as_of=AS_OF)
        compiled_s = time.perf_counter() - start
        start = time.perf_counter()
        run_floor(con, [document])
        floor_s = time.perf_counter() - start
        totals[0] += compiled_s
        totals[1] += floor_s
        query, table = compiled[document]
        print(
            f"\n{document}: compiled {compiled_s:.2f} s, floor {floor_s:.2f} s "
            f"(ratio {compiled_s / floor_s:.2f}×), {len(query.rules)} rules"
        )
        print(f"  {'rule':<36} {'floor':>9} {'compiled':>9} {'need-info':>9} {'fl-only':>8} {'co-only':>8} {'amt≠':>6}")
        for name, f_n, c_n, info, f_only, c_only, differs in compare(con, document, query.rules, table):
            flag = "" if f_n == c_n and not differs else "  *"
            print(f"  {name:<36} {f_n:>9,} {c_n:>9,} {info:>9,} {f_only:>8,} {c_only:>8,} {differs:>6,}{flag}")
    print(f"\nall four documents: compiled {totals[0]:.2f} s, floor {totals[1]:.2f} s")


if __name__ == "__main__":
    main()
