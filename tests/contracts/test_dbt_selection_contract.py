"""dbt-core 1.11's node selection and ordering, for a build that would leave view nodes out and keep their tests
(issue 17; tried, and reverted while it measured slower): dbt's own code, on a graph of a few nodes, no warehouse."""
from __future__ import annotations

import networkx as nx
from dbt.graph.graph import Graph


def test_a_subset_graph_keeps_an_edge_across_a_node_left_out():
    # dbt/graph/graph.py, Graph.get_subset_graph: "Transitive edges across removed nodes are preserved as explicit
    # new edges" (selector.get_graph_queue runs the selected nodes on that subgraph): a model or test below a view
    # left out still waits for the table the view reads
    full = nx.DiGraph([("model.p.table", "model.p.view"), ("model.p.view", "test.p.unique_view_id"),
                       ("model.p.view", "model.p.mart"), ("model.p.other", "model.p.mart")])
    subset = Graph(full).get_subset_graph(["model.p.table", "test.p.unique_view_id", "model.p.mart"]).graph
    assert set(subset.nodes) == {"model.p.table", "test.p.unique_view_id", "model.p.mart"}
    assert set(subset.edges) == {("model.p.table", "test.p.unique_view_id"), ("model.p.table", "model.p.mart")}


def test_build_adds_its_test_edges_to_the_whole_graph_before_selecting():
    # dbt/task/build.py: BuildTask.compile_manifest compiles the whole graph with add_test_edges=True (an edge from a
    # test to what reads the node it tests), and get_graph_queue selects from that graph: a failing test on a view
    # left out still makes dbt skip the nodes downstream of the view
    import inspect

    from dbt.graph.selector import NodeSelector
    from dbt.task.build import BuildTask

    assert "add_test_edges=True" in inspect.getsource(BuildTask.compile_manifest)
    assert "self.full_graph.get_subset_graph(selected_nodes)" in inspect.getsource(NodeSelector.get_graph_queue)


def test_an_exclusion_takes_the_tests_of_what_it_excludes_with_it():
    # dbt/graph/selector.py: each criterion, an --exclude's included, is expanded to the tests of what it matches
    # (get_nodes_from_criteria -> expand_selection; eager: a test goes with any of its parents). Hence no
    # `--exclude config.materialized:view`: it would leave out every test on a view.
    import inspect

    from dbt.graph.selector import NodeSelector

    source = inspect.getsource(NodeSelector.get_nodes_from_criteria)
    assert "expand_selection" in source and "IndirectSelection.Empty" in source
    assert "indirect_selection == IndirectSelection.Eager or" in inspect.getsource(NodeSelector.expand_selection)
