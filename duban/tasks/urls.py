from django.urls import path

from duban.tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.board, name="board"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger.xlsx", views.ledger_export, name="ledger_xlsx"),
    path("ledger.xlsx/background/", views.ledger_export_job, name="ledger_xlsx_job"),
    path("new/", views.task_new, name="new"),
    path("inbox/", views.inbox, name="inbox"),
    path("goals/", views.goals, name="goals"),
    path("goals/new/", views.goal_new, name="goal_new"),
    path("<int:pk>/", views.task_detail, name="task"),
    path("<int:pk>/edit/", views.task_edit, name="edit"),
    path("<int:pk>/milestones/new/", views.milestone_new, name="milestone_new"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/supervise/", views.supervise, name="supervise"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path("milestones/<int:pk>/met/", views.milestone_met, name="milestone_met"),
    path("reminders/<int:pk>/reply/", views.reply, name="reply"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
