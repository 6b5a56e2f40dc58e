"""Glue SearchTables over the local Data Catalog (text, filters, sort, paging)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

DATABASES = {
    "search_sales": [
        {"Name": "customer-link", "Description": "who bought what",
         "StorageDescriptor": {"Columns": [{"Name": "customer_id", "Type": "int", "Comment": "buyer"}],
                               "Location": "s3://search-bucket/sales/customer-link/"},
         "Parameters": {"classification": "parquet"}},
        {"Name": "orders", "TableType": "EXTERNAL_TABLE",
         "StorageDescriptor": {"Columns": [{"Name": "order_date", "Type": "date"}]},
         "Parameters": {"classification": "csv"}},
    ],
    "search_views": [
        {"Name": "revenue_view", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "SELECT 1",
         "StorageDescriptor": {"Columns": [{"Name": "revenue", "Type": "double"}]}},
        {"Name": "customerlink", "StorageDescriptor": {"Columns": []}},
    ],
}


@pytest.fixture(scope="module")
def glue(local_cloud: str) -> Any:
    client = boto3.client("glue")
    for database, tables in DATABASES.items():
        client.create_database(DatabaseInput={"Name": database})
        for table in tables:
            client.create_table(DatabaseName=database, TableInput=table)
    return client


def names(result: dict[str, Any]) -> list[str]:
    return [f"{t['DatabaseName']}.{t['Name']}" for t in result["TableList"]
            if t["DatabaseName"].startswith("search_")]


def test_search_text_matches_names_columns_and_comments(glue: Any) -> None:
    assert names(glue.search_tables(SearchText="revenue")) == ["search_views.revenue_view"]
    assert names(glue.search_tables(SearchText="BUYER")) == ["search_sales.customer-link"]
    assert names(glue.search_tables(SearchText="customer")) == [
        "search_sales.customer-link", "search_views.customerlink"]
    assert names(glue.search_tables(SearchText='"orders"')) == ["search_sales.orders"]
    assert names(glue.search_tables(SearchText='"order"')) == []


def test_filters_match_tokens_and_parameters(glue: Any) -> None:
    link = glue.search_tables(Filters=[{"Key": "Name", "Value": "link"}])
    assert names(link) == ["search_sales.customer-link"]  # a token; "customerlink" has none
    views = glue.search_tables(Filters=[{"Key": "TableType", "Value": "VIRTUAL_VIEW"}])
    assert names(views) == ["search_views.revenue_view"]
    parquet = glue.search_tables(Filters=[{"Key": "classification", "Value": "parquet"},
                                          {"Key": "DatabaseName", "Value": "search_sales"}])
    assert names(parquet) == ["search_sales.customer-link"]
    recent = glue.search_tables(Filters=[{"Key": "CreateTime", "Value": "2000-01-01T00:00:00Z",
                                          "Comparator": "GREATER_THAN"}], SearchText="search_")
    assert len(names(recent)) == 4
    with pytest.raises(glue.exceptions.InvalidInputException, match="not a time"):
        glue.search_tables(Filters=[{"Key": "CreateTime", "Value": "yesterday"}])


def test_sort_and_pages(glue: Any) -> None:
    everything = glue.search_tables(SearchText="search_", SortCriteria=[
        {"FieldName": "Name", "Sort": "DESC"}])
    assert names(everything) == ["search_views.revenue_view", "search_sales.orders",
                                 "search_views.customerlink", "search_sales.customer-link"]
    first = glue.search_tables(SearchText="search_", MaxResults=3)
    rest = glue.search_tables(SearchText="search_", MaxResults=3, NextToken=first["NextToken"])
    assert len(first["TableList"]) == 3 and "NextToken" not in rest
    assert len(names(first)) + len(names(rest)) == 4
